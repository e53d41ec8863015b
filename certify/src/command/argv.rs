//! Argument templates: an adapter's `command` (and `[precompile]`, `[wasi_testsuite]`)
//! expanded into the argv of one run, with the case's limits, preopens, variables, network
//! grant and guest arguments, or the control the adapter cannot express named.

use super::{CommandRuntime, LAUNCHERS, resolve, supervise};
use crate::error::{Error, Result};
use crate::runtime::{End, Prepared, Spawn};
use crate::testsuite::Proposal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

impl CommandRuntime {
    pub(super) fn expand(template: &[String], vars: &[(&str, String)]) -> Vec<String> {
        template
            .iter()
            .map(|t| {
                let mut s = t.clone();
                for (k, v) in vars {
                    s = s.replace(&format!("{{{k}}}"), v);
                }
                s
            })
            .collect()
    }

    /// The adapter's `[precompile]` step, if any: the module to run, or how the step ended (a
    /// crash or hang is the runtime's; an error exit or no output is a refusal).
    #[allow(clippy::type_complexity)]
    pub(super) fn precompile(
        &self,
        wasm: &Path,
        work: &Path,
        deadline: Duration,
    ) -> Result<std::result::Result<PathBuf, (End, Vec<u8>, Vec<u8>, Vec<String>)>> {
        let Some(pc) = &self.adapter.precompile else {
            return Ok(Ok(wasm.to_path_buf()));
        };
        let compiled = wasm.with_extension(&pc.extension);
        let args = Self::expand(
            &pc.args,
            &[
                ("module", wasm.to_string_lossy().into_owned()),
                ("compiled", compiled.to_string_lossy().into_owned()),
            ],
        );
        let prog =
            resolve(&pc.program).ok_or_else(|| Error::PrecompilerNotFound(pc.program.clone()))?;
        let mut cmd = Command::new(prog);
        cmd.args(&args).current_dir(work.join("cwd"));
        let (end, out, err) = supervise(cmd, None, deadline, &[], self.rss_cap)?;
        if let End::Signaled(_) | End::TimedOut | End::MemoryCap(_) = end {
            return Ok(Err((end, out, err, args)));
        }
        if !matches!(end, End::Exited(0)) || !compiled.is_file() {
            let why = format!("precompilation failed: {}", String::from_utf8_lossy(&err));
            return Ok(Err((End::Refused(why), out, err, args)));
        }
        Ok(Ok(compiled))
    }

    /// A literal template element, with `{launcher:NAME}` replaced.
    fn literal(&self, t: &str) -> String {
        let mut s = t.to_string();
        for (name, _) in LAUNCHERS {
            s = s.replace(
                &format!("{{launcher:{name}}}"),
                &self.launchers.path().join(name).to_string_lossy(),
            );
        }
        s
    }

    /// The argv of a WASI testsuite run, from `[wasi_testsuite]`.
    pub(super) fn wasi_argv(&self, s: &Spawn<'_>) -> Result<Vec<String>> {
        let Some(w) = &self.adapter.wasi_testsuite else {
            return Err(Error::Unsupported(
                "the adapter has no [wasi_testsuite] section".into(),
            ));
        };
        let template = w.worlds.get(s.world.label()).ok_or_else(|| {
            Error::Unsupported(format!(
                "the adapter does not declare the world {}",
                s.world
            ))
        })?;
        let version = w.versions.get(s.version.label()).ok_or_else(|| {
            Error::Unsupported(format!("the adapter does not declare {}", s.version))
        })?;
        let mut fragments = String::new();
        for p in Proposal::ALL {
            if s.proposals.contains(p)
                && let Some(f) = w.proposals.get(p.label())
            {
                fragments.push_str(f);
            }
        }
        let mut argv = Vec::new();
        for c in template {
            match c.as_str() {
                "{version}" => {
                    argv.extend(version.iter().map(|v| v.replace("{proposals}", &fragments)))
                }
                "{env}" => {
                    for (k, v) in s.env {
                        let Some(t) = &self.adapter.flags.env else {
                            return Err(Error::Unsupported(
                                "adapter cannot pass environment variables".into(),
                            ));
                        };
                        argv.extend(Self::expand(t, &[("key", k.clone()), ("value", v.clone())]));
                    }
                }
                "{root}" => {
                    if let Some(root) = s.root {
                        let Some(t) = &w.root else {
                            return Err(Error::Unsupported(
                                "adapter cannot preopen a directory as the guest's /".into(),
                            ));
                        };
                        argv.extend(Self::expand(
                            t,
                            &[("host", root.to_string_lossy().into_owned())],
                        ));
                    }
                }
                "{module}" => argv.push(s.module.to_string_lossy().into_owned()),
                "{args}" => argv.extend(s.args.iter().cloned()),
                other => argv.push(self.literal(other)),
            }
        }
        Ok(argv)
    }

    pub(super) fn argv(&self, p: &Prepared<'_>, module: &Path) -> Result<Vec<String>> {
        let spec = &p.case.spec;
        let f = &self.adapter.flags;
        let mut limits = Vec::new();
        if let (Some(t), Some(b)) = (&f.memory_limit, spec.limits.memory_bytes) {
            limits.extend(Self::expand(
                t,
                &[("bytes", b.to_string()), ("pages", (b / 65536).to_string())],
            ));
        }
        if let (Some(t), Some(e)) = (&f.table_limit, spec.limits.table_elements) {
            limits.extend(Self::expand(t, &[("elements", e.to_string())]));
        }
        if let (Some(t), Some(fuel)) = (&f.fuel, spec.limits.fuel) {
            limits.extend(Self::expand(t, &[("fuel", fuel.to_string())]));
        }
        if let Some(t) = &f.timeout {
            let ms = p.timeout.as_millis() as u64;
            limits.extend(Self::expand(
                t,
                &[("ms", ms.to_string()), ("s", ms.div_ceil(1000).to_string())],
            ));
        }
        limits.extend(f.always.iter().cloned());
        let mut dirs = Vec::new();
        for d in &spec.run.dirs {
            let t = if d.read_only() {
                f.dir_ro.as_ref()
            } else if d.read_only_files() {
                f.dir_ro_files.as_ref()
            } else {
                f.dir.as_ref()
            };
            let Some(t) = t else {
                return Err(Error::Unsupported(
                    "adapter cannot express this preopen".into(),
                ));
            };
            let host = p.work.join(&d.host).to_string_lossy().into_owned();
            dirs.extend(Self::expand(
                t,
                &[("host", host), ("guest", d.guest.clone())],
            ));
        }
        let mut env = Vec::new();
        for (k, v) in &spec.run.env {
            let Some(t) = &f.env else {
                return Err(Error::Unsupported(
                    "adapter cannot pass environment variables".into(),
                ));
            };
            env.extend(Self::expand(t, &[("key", k.clone()), ("value", v.clone())]));
        }
        let network = match (&spec.run.network, &f.network) {
            (None, _) => Vec::new(),
            (Some(_), Some(t)) => t.clone(),
            (Some(_), None) => {
                return Err(Error::Unsupported(
                    "adapter cannot grant the network".into(),
                ));
            }
        };
        let mut argv = Vec::new();
        for c in &self.adapter.command {
            match c.as_str() {
                "{limits}" => argv.extend(limits.iter().cloned()),
                "{network}" => argv.extend(network.iter().cloned()),
                "{dirs}" => argv.extend(dirs.iter().cloned()),
                "{env}" => argv.extend(env.iter().cloned()),
                "{args}" => argv.extend(p.args()),
                "{module}" => argv.push(module.to_string_lossy().into_owned()),
                other => argv.push(self.literal(other)),
            }
        }
        Ok(argv)
    }
}
