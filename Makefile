# external-signer: sign container images with keys that live anywhere.
# `make` alone lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# Where the pinned peer tools are built, one directory per tool and version (scripts/peer-versions.sh);
# outside the clone, so that fresh clones (CI) reuse them; never the user's PATH.
TOOLS_DIR ?= $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/external-signer/tools
export TOOLS_DIR
# `make certificates` output (the test PKI) and its leaf key spec.
CERT_DIR ?= examples
KEY_SPEC ?= RSA-4096
PLUGIN_BIN := target/release/notation-external-signer
# `make dist` output (scripts/dist.sh).
DIST_DIR ?= dist
# Shell scripts `make lint` runs shellcheck over.
SHELL_SCRIPTS = $(wildcard scripts/*.sh tests/e2e/*.sh .ci/run examples/*.sh tests/data/commands/*.sh)

# notation's plugin directory for this OS (Go's os.UserConfigDir()/notation/plugins).
UNAME_S := $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
NOTATION_CONFIG_DIR ?= $(HOME)/Library/Application Support/notation
else
NOTATION_CONFIG_DIR ?= $(if $(XDG_CONFIG_HOME),$(XDG_CONFIG_HOME),$(HOME)/.config)/notation
endif
NOTATION_LIBEXEC ?= $(NOTATION_CONFIG_DIR)
PLUGIN_DIR := $(NOTATION_LIBEXEC)/plugins/external-signer

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the plugin and libraries (release)
	$(CARGO) build --release --locked --workspace --bins

.PHONY: install
install: build ## install the plugin into notation's plugin directory (honours XDG_CONFIG_HOME, NOTATION_LIBEXEC)
	install -d "$(PLUGIN_DIR)"
	install -m 0755 $(PLUGIN_BIN) "$(PLUGIN_DIR)/notation-external-signer"
	@echo "installed $(PLUGIN_DIR)/notation-external-signer"

.PHONY: dist
dist: cargo-tools ## reproducible release archives + CycloneDX SBOMs + checksums.txt in DIST_DIR (default dist/): version from Cargo.toml, git commit and dependency list (cargo auditable) embedded
	DIST_DIR="$(DIST_DIR)" scripts/dist.sh

.PHONY: cargo-tools
cargo-tools: ## cargo install --locked the pinned cargo-auditable and cargo-cyclonedx into TOOLS_DIR (make dist needs them)
	scripts/install-peers.sh --no-apt cargo-auditable cargo-cyclonedx

# `make publish`: where to (host[:port]/repository), the tag (default: the version) and the signing
# key + certificate chain (leaf first; default: the test PKI of `make certificates`).
REGISTRY ?=
TAG ?=
SIGNING_KEY ?= $(CERT_DIR)/leaf.key
SIGNING_CERT_CHAIN ?= $(CERT_DIR)/certificate_chain.pem

.PHONY: publish
publish: peers ## push DIST_DIR (make dist first) as one OCI artifact with oras to REGISTRY=host[:port]/repo, sign it with notation + our plugin and with cosign-compat
	REGISTRY="$(REGISTRY)" TAG="$(TAG)" DIST_DIR="$(DIST_DIR)" SIGNING_KEY="$(SIGNING_KEY)" \
	  SIGNING_CERT_CHAIN="$(SIGNING_CERT_CHAIN)" scripts/publish.sh

.PHONY: package
package: ## cargo package release-identity + sig-core + cosign-compat, each verified by building it from its .crate (cosign-compat against the packaged sig-core)
	$(CARGO) package --locked -p release-identity -p sig-core -p cosign-compat

# The nightly build of the dependencies (rmeta, aws-lc-sys's C) is kept outside the clone, beside
# TOOLS_DIR, so a fresh clone (CI) reuses it.
DOCSRS_TARGET_DIR ?= $(TOOLS_DIR)/../docsrs-target
# docs.rs builds with nightly. CI sets stable: the same flags, and our crates use no nightly-only
# doc feature (no `doc_cfg`), while a cold nightly build of the dependencies costs ~13 min.
DOCSRS_TOOLCHAIN ?= nightly

.PHONY: doc-docsrs
doc-docsrs: ## the docs of sig-core + cosign-compat as docs.rs builds them (DOCSRS_TOOLCHAIN, default nightly; --cfg docsrs, all features, warnings as errors)
	@$(CARGO) +$(DOCSRS_TOOLCHAIN) --version >/dev/null 2>&1 || { echo "no $(DOCSRS_TOOLCHAIN) toolchain: rustup toolchain install $(DOCSRS_TOOLCHAIN) (docs.rs builds with nightly)" >&2; exit 1; }
	RUSTDOCFLAGS="--cfg docsrs -D warnings" $(CARGO) +$(DOCSRS_TOOLCHAIN) doc --locked --no-deps --all-features \
	  -p sig-core -p cosign-compat --target-dir "$(DOCSRS_TARGET_DIR)"
	@echo "docs in $(DOCSRS_TARGET_DIR)/doc/sig_core/index.html and $(DOCSRS_TARGET_DIR)/doc/cosign_compat/index.html"

# `make man` output.
MAN_DIR ?= target/man

.PHONY: man
man: ## man pages of cosign-compat (clap_mangen, from its clap definitions) into MAN_DIR (default target/man)
	$(CARGO) run --locked -q -p cosign-compat --bin cosign-compat -- man --out "$(MAN_DIR)"
	@echo "man pages in $(MAN_DIR): man -l $(MAN_DIR)/cosign-compat.1"

.PHONY: certificates
certificates: ## make a test PKI root -> intermediate -> leaf (KEY_SPEC=RSA-4096|..|EC-521, CERT_DIR=examples)
	scripts/certificates.sh --key-spec "$(KEY_SPEC)" --out "$(CERT_DIR)"

.PHONY: testdata
testdata: ## regenerate the committed fixtures under tests/data (not run in CI)
	scripts/testdata.sh

.PHONY: peers
peers: ## install the pinned peer tools (notation, crane, oras, cosign v3.1.3, olareg, sigstore-go-verify) and Debian packages
	scripts/install-peers.sh

.PHONY: peers-kyverno
peers-kyverno: ## build the Kyverno CLI + admission controller v1.19.1 into TOOLS_DIR (not in `make peers`: ~10 min of Go build)
	scripts/install-peers.sh --no-apt kyverno

.PHONY: peers-admission
peers-admission: ## build kube-apiserver + kubectl v1.35.4, etcd v3.6.17 and Kyverno v1.19.1 into TOOLS_DIR (~25 min cold)
	scripts/install-peers.sh --no-apt kyverno kube etcd

# Images the rendered Kyverno policies apply to (Kyverno globs: `*` also matches `/` and `:`).
KYVERNO_IMAGE_REFS ?= localhost:*/* 127.0.0.1:*/*

.PHONY: kyverno-policies
kyverno-policies: ## render the Kyverno policies (Notary, Cosign; ImageValidatingPolicy v1, deprecated ClusterPolicy) from the PKI in CERT_DIR into examples/
	scripts/kyverno-policies.sh --cert-dir "$(CERT_DIR)" --out examples $(foreach r,$(KYVERNO_IMAGE_REFS),--image-ref '$(r)')

.PHONY: demo
demo: ## PKI, local registry, sign with notation through the plugin, verify
	scripts/demo.sh

.PHONY: demo-admission
demo-admission: e2e-build peers-admission ## etcd + kube-apiserver + Kyverno admission: a signed Pod admitted, an unsigned one refused
	scripts/demo-admission.sh

.PHONY: test
test: test-unit fuzz-corpus e2e ## all tests: unit + integration + fuzz corpora + end-to-end against the real tools

.PHONY: test-unit
test-unit: ## unit and integration tests (cargo)
	$(CARGO) test --workspace --locked

.PHONY: fuzz-corpus
fuzz-corpus: ## replay every committed fuzz corpus input through its target (stable; fuzzing itself needs nightly)
	cd fuzz && $(CARGO) test --locked --target-dir ../target --test corpus

.PHONY: e2e
e2e: e2e-notation e2e-cosign e2e-cosign-bundle e2e-cosign-kms e2e-pkcs11 e2e-dist e2e-kyverno e2e-admission ## end-to-end against the real notation, cosign, Kyverno (CLI and admission) and registries; the release archives

.PHONY: e2e-build
e2e-build: peers
	$(CARGO) build --release --locked -p notation-plugin -p examples -p cosign-compat -p sigstore-kms-plugin

.PHONY: e2e-notation
e2e-notation: e2e-build ## notation sign/verify through the plugin, both registries, JWS and COSE
	tests/e2e/notation.sh

.PHONY: e2e-cosign
e2e-cosign: e2e-build ## cosign-compat against the real cosign and sigstore-rs
	tests/e2e/cosign.sh

.PHONY: e2e-cosign-bundle
e2e-cosign-bundle: e2e-build ## cosign-compat's bundle format (cosign v3's default) against the real cosign and sigstore-go, both registries
	tests/e2e/cosign-bundle.sh

.PHONY: e2e-cosign-kms
e2e-cosign-kms: e2e-build ## stock cosign signing through the sigstore KMS plugin (key file, signer program, SoftHSM2), both formats and registries
	tests/e2e/cosign-kms.sh

.PHONY: e2e-pkcs11
e2e-pkcs11: e2e-build ## notation sign/verify with keys in a SoftHSM2 token
	tests/e2e/pkcs11.sh

.PHONY: e2e-dist
e2e-dist: peers cargo-tools ## release archives: reproducible (built twice), SBOMs, embedded dependency lists, notation plugin install --file/--url (HTTPS, private CA), upgrade, uninstall, cargo install/package, docs.rs docs, make publish + verify
	tests/e2e/dist.sh

.PHONY: e2e-kyverno
e2e-kyverno: e2e-build peers-kyverno ## Kyverno CLI (kyverno test/apply, no cluster) against notation- and cosign-compat-signed images
	tests/e2e/kyverno.sh

.PHONY: e2e-admission
e2e-admission: e2e-build peers-admission ## Kyverno admission for real: etcd + kube-apiserver + the Kyverno controller, Pods created with kubectl
	tests/e2e/admission.sh

.PHONY: e2e-kind
e2e-kind: e2e-build ## the cluster flow: Kind + local registry + Kyverno (Helm); needs Docker, kind, helm, kubectl
	scripts/kind-cluster.sh

.PHONY: bench
bench: ## side-by-side benchmarks against OpenSSL, printed as ratios (see BENCHMARKS.md)
	scripts/bench.sh

.PHONY: bench-cosign-kms
bench-cosign-kms: e2e-build ## cosign sign through the KMS plugin vs cosign sign with its own key file (BENCHMARKS.md)
	scripts/bench-cosign-kms.sh

.PHONY: bench-admission
bench-admission: e2e-build peers-admission ## Pod-create latency through Kyverno admission: Notary-, cosign-signed, unmatched (BENCHMARKS.md)
	scripts/bench-admission.sh

.PHONY: fmt
fmt: ## format the code
	$(CARGO) fmt --all
	cd fuzz && $(CARGO) fmt

.PHONY: fmt-check
fmt-check:
	$(CARGO) fmt --all --check

.PHONY: lint
lint: lint-shell ## rustfmt check, clippy with warnings as errors, shellcheck
	$(CARGO) fmt --all --check
	cd fuzz && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

.PHONY: lint-shell
lint-shell: ## shellcheck -x over the shell scripts (scripts, e2e, CI, examples, test fixtures)
	@command -v shellcheck >/dev/null || { echo "shellcheck not found: run 'make peers' (Debian package shellcheck)" >&2; exit 1; }
	shellcheck -x $(SHELL_SCRIPTS)

.PHONY: doc
doc: ## API docs, warnings as errors
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --workspace --no-deps --locked

.PHONY: deny
deny: ## licenses, bans and sources of every dependency (cargo-deny)
	@command -v cargo-deny >/dev/null || $(CARGO) install --locked cargo-deny@0.20.2
	$(CARGO) deny check licenses bans sources

.PHONY: deny-advisories
deny-advisories: ## RustSec advisories too (needs access to GitHub)
	$(CARGO) deny check

.PHONY: ci
ci: lint test doc deny ## what CI runs

.PHONY: clean
clean: ## remove build output and leftover e2e/demo work dirs (the peer tools stay in TOOLS_DIR: make clean-tools)
	$(CARGO) clean
	rm -rf .tools .e2e .demo dist

.PHONY: clean-tools
clean-tools: ## remove the built peer tools (TOOLS_DIR, shared by every clone of this user) and the docs.rs nightly target dir
	rm -rf "$(TOOLS_DIR)" "$(DOCSRS_TARGET_DIR)"
