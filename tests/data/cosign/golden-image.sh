# shellcheck shell=bash
# Sourced by regenerate.sh and regenerate-bundles.sh (after scripts/lib.sh).

# golden_setup W: an empty docker config in $DOCKER_CONFIG, $HOME, and in W/layer.tar the one
# layer of the golden image, deterministic (fixed tar metadata) so image-manifest.json and
# image-digest are stable.
golden_setup() {
  local w=$1
  mkdir -p "$DOCKER_CONFIG" "$HOME" "$w/root"
  echo '{}' >"$DOCKER_CONFIG/config.json"
  printf 'cosign-compat golden image\n' >"$w/root/payload.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$w/root" -cf "$w/layer.tar" payload.txt
}
