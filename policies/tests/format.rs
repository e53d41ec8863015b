//! The policy file format: strict parsing with line and column, the version, the template and
//! the reference staying complete, and parse → serialise → parse stability.

mod common;
use common::*;
use wasmcert_policy::native::parse_raw;
use wasmcert_policy::{Policy, RULES};

#[test]
fn unknown_keys_are_errors_at_their_line_and_column() {
    let e = load_error("version = 1\n\n[rules.capability-denied]\ncapabilites = [\"net-*\"]\n");
    assert!(
        e.starts_with("policy.toml:4:1: unknown field `capabilites`"),
        "{e}"
    );
    let e = load_error("version = 1\n[rules.memory-limits]\nmax-pages = 1\n");
    assert!(
        e.starts_with("policy.toml:2:8: unknown field `memory-limits`"),
        "{e}"
    );
    let e = load_error("version = 1\ncolour = \"blue\"\n");
    assert!(
        e.starts_with("policy.toml:2:1: unknown field `colour`"),
        "{e}"
    );
    let e = load_error(
        "version = 1\n[[exceptions]]\nname = \"a\"\nreason = \"r\"\nuntil = 2027-01-01\n",
    );
    assert!(
        e.starts_with("policy.toml:5:1: unknown field `until`"),
        "{e}"
    );
}

#[test]
fn the_version_is_required_and_checked() {
    let e = load_error("[rules.sbom-required]\n");
    assert!(e.contains("missing field `version`"), "{e}");
    let e = load_error("version = 2\n");
    assert!(
        e.starts_with(
            "policy.toml:1:11: unsupported policy version 2 (this wasmcert reads version 1)"
        ),
        "{e}"
    );
    let e = load_error("version = \"1\"\n");
    assert!(e.starts_with("policy.toml:1:11: invalid type"), "{e}");
}

#[test]
fn syntax_errors_and_bad_values_name_the_place() {
    let e = load_error("version = 1\n[rules.capability-denied\n");
    assert!(e.starts_with("policy.toml:2:"), "{e}");
    let e = load_error("version = 1\n[rules.capability-denied]\ncapabilities = [\"net-lisen\"]\n");
    assert!(
        e.starts_with("policy.toml:3:17: \"net-lisen\" matches no capability id"),
        "{e}"
    );
    let e = load_error("version = 1\n[rules.import-denied]\nimports = [\"wasi:http/*@x.y\"]\n");
    assert!(
        e.starts_with("policy.toml:3:12: invalid version range"),
        "{e}"
    );
    let e = load_error("version = 1\n[rules.signature-required]\nkeys = []\n");
    assert!(
        e.starts_with("policy.toml:3:8: signature-required needs at least one public key"),
        "{e}"
    );
    let e = load_error("version = 1\n[rules.signature-required]\nkeys = [\"missing.pub\"]\n");
    assert!(e.starts_with("policy.toml:3:9: cannot read key"), "{e}");
    let e = load_error(
        "version = 1\n[rules.runtime-certification-required]\nkeys = [\"../reports/tests/keys/test.pub\"]\nforbid = [\"escape\"]\n",
    );
    assert!(
        e.starts_with("policy.toml:4:11: unknown outcome \"escape\""),
        "{e}"
    );
}

#[test]
fn files_are_read_with_their_path_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.toml");
    std::fs::write(&p, "version = 1\nx = 1\n").unwrap();
    let e = Policy::load(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:2:1: unknown field `x`, expected one of `version`, `name`, `description`, `rules`, `exceptions`",
            p.display()
        )
    );
    let e = Policy::load(&dir.path().join("none.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("none.toml: cannot read"), "{e}");
    std::fs::write(&p, [0xffu8, 0xfe]).unwrap();
    assert!(
        Policy::load(&p)
            .unwrap_err()
            .to_string()
            .contains("not UTF-8")
    );
}

#[test]
fn the_template_parses_and_lists_every_rule_and_field() {
    let text = std::fs::read_to_string(root().join("template.toml")).unwrap();
    let p = Policy::load(&root().join("template.toml")).unwrap_or_else(|e| panic!("{e}"));
    // The rules at `allow` in the template are the two that need the user's keys.
    let mut on = p.rule_ids();
    on.sort();
    let mut expected: Vec<String> = RULES
        .iter()
        .map(|r| r.id.to_string())
        .filter(|id| {
            ![
                "signature-required",
                "runtime-certification-required",
                "sbom-required",
            ]
            .contains(&id.as_str())
        })
        .collect();
    expected.sort();
    assert_eq!(on, expected);
    for r in RULES {
        assert!(
            text.contains(&format!("[rules.{}]", r.id)),
            "template lacks [rules.{}]",
            r.id
        );
        // Each field appears as a key (possibly commented out) in the rule's section.
        let section = text.split(&format!("[rules.{}]", r.id)).nth(1).unwrap();
        let section = section.split("\n[").next().unwrap();
        for f in r.fields {
            assert!(
                section.contains(&format!("\n{f} =")) || section.contains(&format!("\n# {f} =")),
                "template [rules.{}] lacks `{f}`",
                r.id
            );
        }
        assert!(
            section.contains("\nlevel ="),
            "template [rules.{}] lacks `level`",
            r.id
        );
    }
    for key in [
        "[[exceptions]]",
        "digest",
        "name =",
        "rules =",
        "reason =",
        "expires =",
    ] {
        assert!(text.contains(key), "template lacks {key}");
    }
}

#[test]
fn every_rule_has_a_reference_page_that_names_its_fields() {
    let docs = root().join("../docs/policy/rules");
    for r in RULES.iter().chain(wasmcert_policy::rules::META_RULES) {
        let page = docs.join(format!("{}.md", r.id));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("missing {}", page.display()));
        assert!(
            text.starts_with(&format!("# `{}`", r.id)),
            "{}",
            page.display()
        );
        for f in r.fields {
            assert!(
                text.contains(&format!("`{f}`")),
                "{} does not document `{f}`",
                page.display()
            );
        }
    }
    let summary = std::fs::read_to_string(root().join("../docs/SUMMARY.md")).unwrap();
    for r in RULES.iter().chain(wasmcert_policy::rules::META_RULES) {
        assert!(
            summary.contains(&format!("(policy/rules/{}.md)", r.id)),
            "SUMMARY lacks {}",
            r.id
        );
    }
}

#[test]
fn parse_serialise_parse_is_stable() {
    let mut files = vec![root().join("template.toml")];
    for e in std::fs::read_dir(root().join("packs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            files.push(p);
        }
    }
    assert!(files.len() >= 6);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let raw = parse_raw(&text, "p").unwrap();
        let again = toml::to_string(&raw).unwrap();
        let raw2 =
            parse_raw(&again, "p").unwrap_or_else(|e| panic!("{}: {e}\n{again}", f.display()));
        assert_eq!(raw, raw2, "{}", f.display());
        assert_eq!(again, toml::to_string(&raw2).unwrap());
    }
}

#[test]
fn exceptions_need_a_reason_and_a_subject() {
    let e = load_error("version = 1\n[[exceptions]]\nname = \"a.wasm\"\nreason = \" \"\n");
    assert!(
        e.starts_with("policy.toml:4:10: an exception needs a non-empty reason"),
        "{e}"
    );
    let e = load_error("version = 1\n[[exceptions]]\nname = \"a.wasm\"\n");
    assert!(e.contains("missing field `reason`"), "{e}");
    let e = load_error("version = 1\n[[exceptions]]\nreason = \"r\"\n");
    assert!(e.contains("an exception needs `digest` or `name`"), "{e}");
    let e = load_error("version = 1\n[[exceptions]]\ndigest = \"sha256:12\"\nreason = \"r\"\n");
    assert!(
        e.starts_with("policy.toml:3:10: digest must be sha256:<64 hex digits>"),
        "{e}"
    );
    let e = load_error(
        "version = 1\n[[exceptions]]\nname = \"a\"\nrules = [\"no-such-rule\"]\nreason = \"r\"\n",
    );
    assert!(
        e.starts_with("policy.toml:4:10: unknown rule id \"no-such-rule\""),
        "{e}"
    );
    let e = load_error(
        "version = 1\n[[exceptions]]\nname = \"a\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
    );
    assert!(
        e.starts_with("policy.toml:5:11: invalid type: string"),
        "{e}"
    );
    let e = load_error(
        "version = 1\n[[exceptions]]\nname = \"a\"\nreason = \"r\"\nexpires = 2027-01-01T10:00:00Z\n",
    );
    assert!(e.contains("expires takes a date"), "{e}");
}
