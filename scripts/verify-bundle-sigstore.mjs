#!/usr/bin/env node
// Verify a wasmcert Sigstore bundle (v0.3, DSSE, in-toto Statement v1) with sigstore-js.
//
// An implementation independent of wasmcert's own `verify`: the whole bundle is parsed and
// validated by @sigstore/bundle and verified offline by @sigstore/verify with the given
// public key (pinned in scripts/install-verifiers.sh, installed into .ci/tools/node; set
// WASMCERT_VERIFIERS_NODE_DIR to use another npm prefix).
//
// Usage: verify-bundle-sigstore.mjs BUNDLE PUBKEY_PEM [EXPECTED_SUBJECT_SHA256]
// Exit 0 and print "OK" (alone on stdout; what was verified goes to stderr) when the bundle
// verifies with the key (and, when given, the verified statement has a subject whose sha256
// is EXPECTED_SUBJECT_SHA256); exit 1 with a reason on stderr otherwise.
import { createRequire } from "node:module";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const PAYLOAD_TYPE = "application/vnd.in-toto+json";
const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";

function fail(msg) {
  process.stderr.write(`FAIL: ${msg}\n`);
  process.exit(1);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = process.env.WASMCERT_VERIFIERS_NODE_DIR || path.join(here, "..", ".ci", "tools", "node");
const require = createRequire(path.join(prefix, "package.json"));
let bundleLib, verifyLib;
try {
  bundleLib = require("@sigstore/bundle");
  verifyLib = require("@sigstore/verify");
} catch (e) {
  fail(`@sigstore/verify is not installed in ${prefix} (run scripts/install-verifiers.sh): ${e.message}`);
}
const { bundleFromJSON } = bundleLib;
const { toSignedEntity, toTrustMaterial, Verifier } = verifyLib;

const args = process.argv.slice(2);
if (args.length < 2 || args.length > 3) {
  fail("usage: verify-bundle-sigstore.mjs BUNDLE PUBKEY_PEM [EXPECTED_SUBJECT_SHA256]");
}
const [bundlePath, pubPath, want] = args;
if (want !== undefined && !/^[0-9a-fA-F]{64}$/.test(want)) {
  fail(`expected subject sha256 ${JSON.stringify(want)} is not 64 hex digits`);
}

let json, key;
try {
  json = JSON.parse(fs.readFileSync(bundlePath, "utf8"));
} catch (e) {
  fail(`cannot read the bundle as JSON: ${e.message}`);
}
try {
  key = crypto.createPublicKey(fs.readFileSync(pubPath));
} catch (e) {
  fail(`cannot read the public key PEM: ${e.message}`);
}
if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
  fail("the public key is not ECDSA P-256");
}
// How a bundle names its key: base64(sha256(DER SubjectPublicKeyInfo)).
const hint = crypto.createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("base64");

let bundle, entity;
try {
  // Parses the protobuf-JSON form and asserts the v0.3 bundle's required fields.
  bundle = bundleFromJSON(json);
  entity = toSignedEntity(bundle);
} catch (e) {
  fail(`not a valid Sigstore bundle: ${e.message}`);
}
if (bundle.mediaType !== BUNDLE_MEDIA_TYPE) fail(`mediaType is ${bundle.mediaType}, expected ${BUNDLE_MEDIA_TYPE}`);
if (bundle.content?.$case !== "dsseEnvelope") fail("the bundle has no dsseEnvelope");
if (bundle.verificationMaterial.content?.$case !== "publicKey") fail("the bundle is not signed with a public key");

// Trust material with no CA, TSA, Rekor or CT log: only our key, found by the bundle's hint.
// The key is valid at any time (the bundle carries no timestamp to check it against).
const trust = toTrustMaterial(
  { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
  (h) => {
    if (h !== hint) {
      const err = new Error(`the bundle names key ${JSON.stringify(h)}, the given key is ${JSON.stringify(hint)}`);
      err.code = "PUBLIC_KEY_ERROR";
      throw err;
    }
    return { publicKey: key, validFor: () => true };
  },
);
// Offline, key-based: no transparency log entries, SCTs or timestamps are required.
// (tsaThreshold is the deprecated name of timestampThreshold in this version; both given.)
const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0, tsaThreshold: 0 });
try {
  verifier.verify(entity);
} catch (e) {
  fail(`verification failed: ${e.code ? e.code + ": " : ""}${e.message}`);
}

// The DSSE signature covers PAE(payloadType, payload): both are now authenticated.
const env = bundle.content.dsseEnvelope;
if (env.payloadType !== PAYLOAD_TYPE) fail(`payloadType is ${env.payloadType}, expected ${PAYLOAD_TYPE}`);
// @sigstore/verify checks only the envelope's first signature; refuse envelopes whose
// other signatures would go unchecked rather than guess what they mean.
if (env.signatures.length !== 1) fail(`expected exactly 1 DSSE signature, found ${env.signatures.length}`);

let statement;
try {
  statement = JSON.parse(Buffer.from(env.payload).toString("utf8"));
} catch (e) {
  fail(`the signed payload is not JSON: ${e.message}`);
}
if (statement?._type !== STATEMENT_TYPE) fail(`statement _type is not ${STATEMENT_TYPE}`);
if (!Array.isArray(statement.subject) || statement.subject.length === 0) fail("the statement has no subject");
const digests = statement.subject.map((s) => String(s?.digest?.sha256 ?? "").toLowerCase());
if (want !== undefined && !digests.includes(want.toLowerCase())) {
  fail(`sha256 ${want} is not a subject of the statement (subjects: ${digests.join(", ")})`);
}
const subj = statement.subject.map((s) => `${s?.name}@sha256:${s?.digest?.sha256}`).join(", ");
process.stderr.write(`verified ${statement.predicateType}; subject ${subj}\n`);
process.stdout.write("OK\n");
