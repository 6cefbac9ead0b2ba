#!/usr/bin/env bash
# Validate PDFs as PDF/A-3b with veraPDF, fetched from Maven Central on first use.
# Usage: services/signing/bench/verapdf.sh FILE.pdf...   (exit 0 only if every file passes)
# Needs java and mvn; the jars land in ~/.m2, the classpath is cached in ~/.cache/factora.
set -euo pipefail

VERAPDF_VERSION="${VERAPDF_VERSION:-1.30.2}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/factora"
cp_file="$cache/verapdf-$VERAPDF_VERSION.classpath"

if [[ ! -s "$cp_file" ]]; then
  mkdir -p "$cache"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>factora.tools</groupId><artifactId>verapdf-runner</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.verapdf.apps</groupId><artifactId>cli</artifactId>
      <version>$VERAPDF_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$work/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp_file.tmp" >&2
  mv "$cp_file.tmp" "$cp_file"
fi

output="$(java -cp "$(cat "$cp_file")" org.verapdf.apps.GreenfieldCliWrapper \
  --flavour 3b --format text "$@" 2>&1)" || true
echo "$output"
# veraPDF prints one "PASS <file> 3b" or "FAIL <file> 3b" line per file.
[[ "$(grep -c '^PASS ' <<<"$output")" -eq "$#" ]]
