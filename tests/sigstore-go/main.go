// Command sigstore-go-verify verifies one Sigstore bundle (a cosign v3 image signature: a DSSE
// envelope whose in-toto statement names the image digest) with sigstore-go's bundle and verify
// packages, as an independent verifier besides cosign for tests/e2e/cosign-bundle.sh. Test
// infrastructure only (scripts/install-peers.sh sigstore-go); never product code.
//
// It configures sigstore-go the way cosign v3 does for a private PKI without Rekor
// (cosign's pkg/cosign/verify.go, verificationOptions, with --insecure-ignore-tlog
// --insecure-ignore-sct): a public key is verified with no observer timestamp
// (verify.WithNoObserverTimestamps), a certificate at the current time (verify.WithCurrentTime)
// against the certificate authorities of a trusted_root.json; no transparency log, no SCT.
// The artifact policy is the image digest: the statement's subject must name it.
//
// usage:
//
//	sigstore-go-verify --bundle FILE --digest sha256:HEX --key PUBKEY.pem
//	sigstore-go-verify --bundle FILE --digest sha256:HEX --trusted-root trusted_root.json \
//	    (--certificate-identity SAN | --certificate-identity-regexp RE) \
//	    (--certificate-oidc-issuer ISSUER | --certificate-oidc-issuer-regexp RE) \
//	    [--allow-certificate-chain]
//
// Prints "verified" and exits 0 on success; prints sigstore-go's error and exits 1 on a refusal,
// 2 on a usage error.
package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// maxInputBytes bounds every file read (a bundle, a key, a trusted root): cosign's bundles are
// a few KB; a larger file is refused before parsing.
const maxInputBytes = 4 << 20

type options struct {
	bundlePath, digest, keyPath, trustedRootPath   string
	identity, identityRegexp, issuer, issuerRegexp string
	allowCertificateChain                          bool
}

// usageError: bad arguments (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errHelp: --help was given and answered.
var errHelp = errors.New("help")

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, errHelp) {
		return
	}
	if err == nil {
		fmt.Println("verified")
		return
	}
	fmt.Fprintf(os.Stderr, "sigstore-go-verify: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

func parseArgs(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("sigstore-go-verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.bundlePath, "bundle", "", "the Sigstore bundle (JSON) to verify")
	fs.StringVar(&o.digest, "digest", "", "the image digest the statement must name, sha256:HEX")
	fs.StringVar(&o.keyPath, "key", "", "a PEM public key (SubjectPublicKeyInfo) the bundle must be signed with")
	fs.StringVar(&o.trustedRootPath, "trusted-root", "", "a trusted_root.json whose certificate authorities anchor the bundle's certificate")
	fs.StringVar(&o.identity, "certificate-identity", "", "the exact SAN the certificate must carry")
	fs.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "a regular expression the certificate's SAN must match")
	fs.StringVar(&o.issuer, "certificate-oidc-issuer", "", "the exact Fulcio issuer extension value")
	fs.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "a regular expression the Fulcio issuer extension must match")
	fs.BoolVar(&o.allowCertificateChain, "allow-certificate-chain", false,
		"accept an x509CertificateChain in a v0.3 bundle (sigstore-go refuses it by default; cosign's flag of that name)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: sigstore-go-verify --bundle FILE --digest sha256:HEX (--key PUBKEY.pem | --trusted-root FILE IDENTITY-FLAGS)")
			fs.PrintDefaults()
			return o, errHelp
		}
		return o, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if o.bundlePath == "" || o.digest == "" {
		return o, usageError{"--bundle FILE and --digest sha256:HEX are required"}
	}
	if (o.keyPath == "") == (o.trustedRootPath == "") {
		return o, usageError{"give exactly one of --key PUBKEY.pem and --trusted-root trusted_root.json"}
	}
	identityGiven := o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != ""
	if o.keyPath != "" && identityGiven {
		return o, usageError{"certificate identity flags go with --trusted-root, not --key"}
	}
	if o.trustedRootPath != "" && (o.identity == "" && o.identityRegexp == "" || o.issuer == "" && o.issuerRegexp == "") {
		return o, usageError{"--trusted-root needs --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (use '.*' to accept any)"}
	}
	return o, nil
}

// readBounded reads at most maxInputBytes of path, refusing a larger file.
func readBounded(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s: %w", what, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the %s %s: %w", what, path, err)
	}
	if len(data) > maxInputBytes {
		return nil, fmt.Errorf("the %s %s is larger than %d bytes", what, path, maxInputBytes)
	}
	return data, nil
}

func parseDigest(s string) ([]byte, error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return nil, usageError{fmt.Sprintf("--digest %q: expected sha256:HEX", s)}
	}
	b, err := hex.DecodeString(hexPart)
	if err != nil || len(b) != 32 {
		return nil, usageError{fmt.Sprintf("--digest %q: expected 64 hex digits after sha256:", s)}
	}
	return b, nil
}

func run(args []string) error {
	o, err := parseArgs(args)
	if err != nil {
		return err
	}
	digest, err := parseDigest(o.digest)
	if err != nil {
		return err
	}

	raw, err := readBounded(o.bundlePath, "bundle")
	if err != nil {
		return err
	}
	var b bundle.Bundle
	if o.allowCertificateChain {
		// bundle.LoadJSONFromPath applies options before UnmarshalJSON validates; the same here.
		bundle.AllowCertificateChain()(&b)
	}
	if err := b.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("loading the bundle %s: %w", o.bundlePath, err)
	}

	var (
		material       root.TrustedMaterial
		verifierOpts   []verify.VerifierOption
		identityPolicy []verify.PolicyOption
	)
	if o.keyPath != "" {
		pemBytes, err := readBounded(o.keyPath, "public key")
		if err != nil {
			return err
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
		if err != nil {
			return fmt.Errorf("the public key %s: %w", o.keyPath, err)
		}
		// cosign's --key default: the key type's default algorithm (signature.LoadDefaultVerifier).
		verifier, err := signature.LoadDefaultVerifier(pub)
		if err != nil {
			return fmt.Errorf("the public key %s: %w", o.keyPath, err)
		}
		key := root.NewExpiringKey(verifier, time.Time{}, time.Time{}) // no validity window
		// As cosign: the given key answers for any hint in the bundle.
		material = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
		verifierOpts = []verify.VerifierOption{verify.WithNoObserverTimestamps()}
		identityPolicy = []verify.PolicyOption{verify.WithKey()}
	} else {
		trJSON, err := readBounded(o.trustedRootPath, "trusted root")
		if err != nil {
			return err
		}
		tr, err := root.NewTrustedRootFromJSON(trJSON)
		if err != nil {
			return fmt.Errorf("the trusted root %s: %w", o.trustedRootPath, err)
		}
		material = tr
		verifierOpts = []verify.VerifierOption{verify.WithCurrentTime()}
		san, err := verify.NewSANMatcher(o.identity, o.identityRegexp)
		if err != nil {
			return usageError{fmt.Sprintf("--certificate-identity-regexp: %v", err)}
		}
		issuer, err := verify.NewIssuerMatcher(o.issuer, o.issuerRegexp)
		if err != nil {
			return usageError{fmt.Sprintf("--certificate-oidc-issuer-regexp: %v", err)}
		}
		id, err := verify.NewCertificateIdentity(san, issuer, certificate.Extensions{})
		if err != nil {
			return usageError{err.Error()}
		}
		identityPolicy = []verify.PolicyOption{verify.WithCertificateIdentity(id)}
	}

	v, err := verify.NewVerifier(material, verifierOpts...)
	if err != nil {
		return err
	}
	_, err = v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", digest), identityPolicy...))
	return err
}
