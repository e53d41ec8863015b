# baseline in Rego: the same decision as baseline.toml (a test checks both on every fixture).
#
# Convention: `input` is the Analysis JSON (docs/analysis-schema.md); `deny` and `warn` are sets
# of {"id", "msg"} (and optionally "unit"). Builtins used: sprintf, split, semver.compare,
# semver.is_valid (regorus is built with only the builtins the shipped policies need).
package wasmcert

import rego.v1

denied_capabilities := {"net-listen", "proc-raise", "unknown-host-import"}

denied_features := {"stack-switching", "memory-control", "custom-descriptors", "shared-everything-threads"}

allowed_kinds := {"core-module", "component"}

max_memory_bytes := 4294967296

max_module_bytes := 268435456

# name, lowest affected version (inclusive), first fixed version (exclusive), advisory.
banned_dependencies := [
	["smallvec", "0.6.3", "0.6.14", "RUSTSEC-2021-0003: buffer overflow in insert_many"],
	["smallvec", "1.0.0", "1.6.1", "RUSTSEC-2021-0003: buffer overflow in insert_many"],
	["regex", "0.0.0", "1.5.5", "RUSTSEC-2022-0013: unbounded regex compilation time"],
]

deny contains {"id": "capability-denied", "msg": msg, "unit": grant.unit} if {
	some cap in input.capabilities
	cap.id in denied_capabilities
	grant := cap.granted_by[0]
	msg := sprintf("capability `%s` is denied (granted by `%s`)", [cap.id, grant["import"]])
}

warn contains {"id": "memory-maximum-required", "msg": msg, "unit": unit.path} if {
	some unit in input.units
	some mem in unit.memories
	not mem.maximum_pages
	msg := sprintf("memory %d declares no maximum", [mem.index])
}

deny contains {"id": "memory-limit", "msg": msg, "unit": unit.path} if {
	some unit in input.units
	some mem in unit.memories
	mem.maximum_pages * mem.page_size > max_memory_bytes
	msg := sprintf("memory %d can grow to %d bytes, more than the 4 GiB cap", [mem.index, mem.maximum_pages * mem.page_size])
}

deny contains {"id": "memory-limit", "msg": msg, "unit": unit.path} if {
	some unit in input.units
	some mem in unit.memories
	not mem.maximum_pages
	mem.memory64
	msg := sprintf("memory %d has no maximum: it can grow to the 64-bit address space, more than the 4 GiB cap", [mem.index])
}

deny contains {"id": "feature-denied", "msg": msg, "unit": unit.path} if {
	some unit in input.units
	some f in unit.features
	f in denied_features
	msg := sprintf("feature `%s` is denied", [f])
}

deny contains {"id": "kind-not-allowed", "msg": msg, "unit": "/"} if {
	not input.subject.kind in allowed_kinds
	msg := sprintf("a %s is not allowed (allowed: core-module, component)", [input.subject.kind])
}

deny contains {"id": "module-size", "msg": msg} if {
	input.subject.size > max_module_bytes
	msg := sprintf("the file is %d bytes, more than the 256 MiB cap", [input.subject.size])
}

deny contains {"id": "dependency-banned", "msg": msg, "unit": unit.path} if {
	some unit in input.units
	some dep in unit.dependencies
	some ban in banned_dependencies
	dep.name == ban[0]
	banned_version(dep.version, ban[1], ban[2])
	msg := sprintf("dependency `%s %s` is banned: %s", [dep.name, dep.version, ban[3]])
}

# A version that cannot be compared is banned (fail closed), as in the native rule.
banned_version(v, _, _) if not semver.is_valid(v)

# In range by semver precedence (1.6.1-rc.1 is below 1.6.1) ...
banned_version(v, low, high) if {
	semver.is_valid(v)
	in_range(v, low, high)
}

# ... or its release is (1.0.0-beta belongs to the 1.0.0 line), as the native rule reads ranges.
banned_version(v, low, high) if {
	semver.is_valid(v)
	in_range(release(v), low, high)
}

in_range(v, low, high) if {
	semver.compare(v, low) >= 0
	semver.compare(v, high) < 0
}

release(v) := split(split(v, "+")[0], "-")[0]
