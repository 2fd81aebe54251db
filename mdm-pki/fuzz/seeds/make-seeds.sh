#!/bin/sh
# Regenerates the seed corpus of the `signature` fuzz target: a test CA (ca.pem, which the target
# trusts) and valid Mdm-Signature inputs made by `openssl cms`, RSA and P-256, each digest, with and
# without signed attributes, in DER and re-encoded as indefinite-length BER. The CA is valid for ten
# years from the day this runs; the target verifies at a fixed time (NOW in the target) inside that.
#
# Input layout (see fuzz_targets/signature.rs): mode byte 1 (the header is base64 of what follows),
# the signature's length as two bytes big-endian, the signature, then the body.
#
# Run from anywhere: sh mdm-pki/fuzz/seeds/make-seeds.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/O=MDM Fuzz/CN=Fuzz Device CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
for kind in rsa ec; do
    openssl req -new -key $kind.key -subj "/CN=FUZZ-UDID-$kind" -out $kind.csr 2>/dev/null
    openssl x509 -req -in $kind.csr -CA ca.pem -CAkey ca.key -set_serial 0x$(openssl rand -hex 8) \
        -days 3650 -out $kind.pem 2>/dev/null
done
printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>MessageType</key><string>Idle</string></dict></plist>\n' > body

# Every constructed element indefinite-length, as macOS sends them.
to_ber() {
    python3 - "$1" "$2" <<'PY'
import sys
def walk(b):
    out = bytearray(); i = 0
    while i < len(b):
        tag = b[i]; n = b[i + 1]
        if n < 0x80: ln, h = n, 2
        else:
            c = n & 0x7f; ln = int.from_bytes(b[i + 2:i + 2 + c], "big"); h = 2 + c
        body = b[i + h:i + h + ln]
        if tag & 0x20: out += bytes([tag, 0x80]) + walk(body) + b"\0\0"
        else: out += b[i:i + h + ln]
        i += h + ln
    return bytes(out)
open(sys.argv[2], "wb").write(walk(open(sys.argv[1], "rb").read()))
PY
}

seed() { # seed NAME SIGNATURE
    python3 -c '
import sys
sig = open(sys.argv[1], "rb").read(); body = open("body", "rb").read()
open(sys.argv[2], "wb").write(bytes([1]) + len(sig).to_bytes(2, "big") + sig + body)' "$2" "$here/signature/$1"
}

rm -f "$here"/signature/*
for kind in rsa ec; do
    for md in sha1 sha256 sha512; do
        for attrs in attr noattr; do
            flag=; [ $attrs = noattr ] && flag=-noattr
            openssl cms -sign -binary -in body -signer $kind.pem -inkey $kind.key -md $md $flag \
                -outform DER -out sig.der
            seed "$kind-$md-$attrs.der" sig.der
            to_ber sig.der sig.ber
            seed "$kind-$md-$attrs.ber" sig.ber
        done
    done
done
cp ca.pem "$here/ca.pem"
echo "wrote $(ls "$here/signature" | wc -l) seeds and ca.pem to $here"
