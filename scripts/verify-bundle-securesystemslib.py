#!/usr/bin/env python3
"""Verify a wasmcert Sigstore bundle (v0.3, DSSE, in-toto Statement v1) with securesystemslib.

An implementation independent of wasmcert's own `verify`: the key is loaded and the DSSE
signature checked by securesystemslib (pinned in scripts/install-verifiers.sh, installed
into .ci/tools/verifiers-venv; run with any python, the script re-runs itself under that
venv when securesystemslib is not importable).

Usage: verify-bundle-securesystemslib.py BUNDLE PUBKEY_PEM [EXPECTED_SUBJECT_SHA256]
Exit 0 and print "OK" (alone on stdout; what was verified goes to stderr) when the bundle verifies with the key (and, when given, the verified
statement has a subject whose sha256 is EXPECTED_SUBJECT_SHA256); exit 1 with a reason
on stderr otherwise (including usage and unreadable input).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.normpath(os.path.join(HERE, "..", ".ci", "tools", "verifiers-venv"))
VENV_PY = os.path.join(VENV, "bin", "python")

try:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_public_key,
    )
    from securesystemslib import exceptions as sslib_exceptions
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey
except ImportError:
    # Not in the verifiers venv yet (comparing prefixes: the venv's python is a symlink).
    if os.path.exists(VENV_PY) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__), *sys.argv[1:]])
    print(
        "FAIL: securesystemslib is not installed (run scripts/install-verifiers.sh)",
        file=sys.stderr,
    )
    sys.exit(1)

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SCHEME = "ecdsa-sha2-nistp256"


class Reject(Exception):
    pass


def verify(bundle_path: str, pub_path: str, want_sha256: str | None) -> dict:
    if want_sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", want_sha256):
        raise Reject(f"expected subject sha256 {want_sha256!r} is not 64 hex digits")
    try:
        with open(bundle_path, "rb") as f:
            bundle = json.load(f)
    except (OSError, ValueError) as e:
        raise Reject(f"cannot read the bundle as JSON: {e}") from e
    try:
        with open(pub_path, "rb") as f:
            pem = f.read()
        crypto_key = load_pem_public_key(pem)
    except (OSError, ValueError) as e:
        raise Reject(f"cannot read the public key PEM: {e}") from e
    if not (
        isinstance(crypto_key, ec.EllipticCurvePublicKey)
        and isinstance(crypto_key.curve, ec.SECP256R1)
    ):
        raise Reject("the public key is not ECDSA P-256")
    # securesystemslib's key; its keyid is securesystemslib's default (sha256 of the
    # canonical key dict), not the bundle's hint.
    key = SSlibKey.from_crypto(crypto_key, scheme=SCHEME)

    if not isinstance(bundle, dict) or bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise Reject(f"mediaType is not {BUNDLE_MEDIA_TYPE}")
    env = bundle.get("dsseEnvelope")
    if not isinstance(env, dict):
        raise Reject("the bundle has no dsseEnvelope")
    if env.get("payloadType") != PAYLOAD_TYPE:
        raise Reject(f"payloadType is {env.get('payloadType')!r}, expected {PAYLOAD_TYPE}")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise Reject("the envelope has no signature")

    # DSSE keyids are unsigned hints (not part of the PAE), and wasmcert writes keyid "".
    # securesystemslib's Envelope.verify only tries a key on signatures whose keyid equals
    # the key's keyid (its docs note this is stricter than the DSSE spec), so each
    # signature is given the loaded key's keyid before verifying. This changes nothing
    # that is signed. Each signature is tried in an envelope of its own, because the
    # Envelope keeps signatures in a dict by keyid; threshold 1 = any one verifies.
    envelope = None
    errors = []
    for s in sigs:
        one = {
            "payload": env.get("payload", ""),
            "payloadType": env["payloadType"],
            "signatures": [{"keyid": key.keyid, "sig": s.get("sig", "") if isinstance(s, dict) else ""}],
        }
        try:
            candidate = Envelope.from_dict(one)
            candidate.verify([key], 1)
        except (sslib_exceptions.VerificationError, ValueError, KeyError, TypeError) as e:
            errors.append(f"{type(e).__name__}: {e}")
            continue
        envelope = candidate
        break
    if envelope is None:
        raise Reject("no signature verifies with the given key (" + "; ".join(errors) + ")")

    # The bundle names its key by hint = base64(sha256(DER SPKI)). Checked after the
    # signature so that a wrong key is rejected by the cryptography, not just by the name.
    der = crypto_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    hint = base64.b64encode(hashlib.sha256(der).digest()).decode()
    bundle_hint = ((bundle.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
    if bundle_hint != hint:
        raise Reject(f"the bundle names key {bundle_hint!r}, the given key is {hint!r}")

    # Everything below reads the payload bytes that were just verified.
    try:
        statement = json.loads(envelope.payload)
    except ValueError as e:
        raise Reject(f"the signed payload is not JSON: {e}") from e
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise Reject(f"statement _type is not {STATEMENT_TYPE}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise Reject("the statement has no subject")
    digests = [
        str(((s or {}).get("digest") or {}).get("sha256", "")).lower()
        for s in subjects
        if isinstance(s, dict)
    ]
    if want_sha256 is not None and want_sha256.lower() not in digests:
        raise Reject(
            f"sha256 {want_sha256} is not a subject of the statement (subjects: {digests})"
        )
    return statement


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(
            "FAIL: usage: verify-bundle-securesystemslib.py BUNDLE PUBKEY_PEM [EXPECTED_SUBJECT_SHA256]",
            file=sys.stderr,
        )
        return 1
    try:
        statement = verify(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    except Reject as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    subj = ", ".join(
        f"{s.get('name')}@sha256:{(s.get('digest') or {}).get('sha256')}" for s in statement["subject"]
    )
    print(f"verified {statement.get('predicateType')}; subject {subj}", file=sys.stderr)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
