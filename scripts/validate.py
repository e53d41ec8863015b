#!/usr/bin/env python3
"""validate.py: check wasmcert's JSON outputs with independent, third-party validators.

Run with the venv made by scripts/install-validators.sh:

    .ci/tools/venv/bin/python scripts/validate.py cyclonedx|spdx|sarif FILE...

  cyclonedx  CycloneDX 1.6 JSON: cyclonedx-python-lib's JsonStrictValidator (schema, formats),
             plus the spec's rules a schema can't say: specVersion is "1.6", bom-refs are
             unique, dependencies only name bom-refs of the document.
  spdx       SPDX 2.3 JSON: spdx-tools' JSON parser + validate_full_spdx_document.
  sarif      SARIF 2.1.0: jsonschema against .ci/tools/sarif-schema-2.1.0.json, with the
             draft the schema declares and format checks.
  report     wasmcert conformance report: jsonschema (2020-12) against the project's own
             docs/report.schema.json, which docs/report-format.md describes.

Prints "OK <kind> <file>" per valid file; prints the errors of each invalid one. Exits 0 when
every file is valid, 1 when any is not, 2 on usage errors.
"""
import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / ".ci/tools"
VENV = TOOLS / "venv"
SARIF_SCHEMA = TOOLS / "sarif-schema-2.1.0.json"
REPORT_SCHEMA = Path(__file__).resolve().parent.parent / "docs/report.schema.json"


def describe(err):
    """One line for a jsonschema ValidationError: where, then what."""
    return f"{'/'.join(map(str, err.absolute_path)) or '(root)'}: {err.message}"


def bom_refs(node):
    """Every "bom-ref" value in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from [v] if k == "bom-ref" else bom_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from bom_refs(v)


def check_cyclonedx(path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = Path(path).read_text(encoding="utf-8")
    found = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True) or []
    errors = [describe(e.data) for e in found]  # e.data: the underlying jsonschema error
    if errors:
        return errors
    doc = json.loads(text)  # schema-valid from here on
    if doc["specVersion"] != "1.6":
        errors.append(f"specVersion is {doc['specVersion']!r}, expected '1.6'")
    seen = set()
    for r in bom_refs({k: v for k, v in doc.items() if k != "dependencies"}):
        if r in seen:
            errors.append(f"bom-ref {r!r} is not unique")
        seen.add(r)
    for dep in doc.get("dependencies", []):
        for r in [dep["ref"], *dep.get("dependsOn", []), *dep.get("provides", [])]:
            if r not in seen and not r.startswith("urn:cdx:"):  # a BOM-Link may point to another BOM
                errors.append(f"dependencies name unknown bom-ref {r!r}")
    return errors


def check_spdx(path):
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.json.json_parser import parse_from_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    try:
        doc = parse_from_file(path)
    except SPDXParsingError as e:
        return [str(m) for m in e.get_messages()]
    return [f"{m.validation_message} (in {m.context.spdx_id or m.context.element_type})"
            for m in validate_full_spdx_document(doc, "SPDX-2.3")]


def check_sarif(path):
    from jsonschema import FormatChecker
    from jsonschema.validators import validator_for

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = validator_for(schema)  # draft-04 for the OASIS file
    cls.check_schema(schema)
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    # FormatChecker() also knows "uri-reference", which SARIF uses but draft-04 doesn't define.
    v = cls(schema, format_checker=FormatChecker())
    return [describe(e) for e in v.iter_errors(doc)]


def check_report(path):
    from jsonschema.validators import Draft202012Validator

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return [describe(e) for e in Draft202012Validator(schema).iter_errors(doc)]


CHECKS = {"cyclonedx": check_cyclonedx, "spdx": check_spdx, "sarif": check_sarif,
          "report": check_report}


def check_one(kind, path):
    if not Path(path).is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    try:
        errors = CHECKS[kind](path)
    except json.JSONDecodeError as e:
        errors = [f"not valid JSON: {e}"]
    except ImportError:
        raise
    except Exception as e:  # e.g. not UTF-8, or a validator choking on a malformed document
        errors = [f"{type(e).__name__}: {e}"]
    if errors:
        print(f"FAIL {kind} {path}: {len(errors)} error(s)")
        for e in errors:
            print(f"  - {e}")
        return 1
    print(f"OK {kind} {path}")
    return 0


def main(argv):
    if len(argv) < 3 or argv[1] not in CHECKS:
        print(f"usage: {Path(argv[0]).name} {{{'|'.join(CHECKS)}}} FILE...", file=sys.stderr)
        return 2
    kind = argv[1]
    if kind == "sarif" and not SARIF_SCHEMA.is_file():
        print(f"{SARIF_SCHEMA} missing: run scripts/install-validators.sh", file=sys.stderr)
        return 2
    try:
        codes = [check_one(kind, p) for p in argv[2:]]
    except ImportError as e:
        print(f"{e}: run scripts/install-validators.sh, then use {VENV}/bin/python", file=sys.stderr)
        return 2
    return max(codes)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
