//! A test spec (`NAME.json`) parsed and validated as upstream's `Config.from_file` and
//! `TestCaseValidator` do: legacy or operation style, every value of the type upstream
//! expects, every count bounded, the operations dry-run.

use super::{
    Endpoint, EndpointMode, EndpointResponse, ExpectedResponse, MAX_SPEC_BYTES, MAX_SPEC_ITEMS, Op,
    Proposal, RequestOp, RunOp, SIGNALS, Server, Signal, Style, TestSpec, World,
};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Component, Path};

const LEGACY_KEYS: &[&str] = &["args", "root", "env", "exit_code", "stderr", "stdout"];
const CONFIG_KEYS: &[&str] = &["operations", "proposals", "world", "servers"];

struct Ctx<'a> {
    file: &'a Path,
    items: usize,
}

impl Ctx<'_> {
    fn err(&self, what: impl std::fmt::Display) -> Error {
        Error::suite(self.file, what)
    }

    fn count(&mut self, n: usize) -> Result<()> {
        self.items += n;
        if self.items > MAX_SPEC_ITEMS {
            return Err(self.err(format!(
                "more than {MAX_SPEC_ITEMS} arguments, variables, operations and other items"
            )));
        }
        Ok(())
    }

    /// `obj.get(key, default)` for a string; a present `null` or another type is refused
    /// (upstream would crash or compare against it).
    fn string(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        default: &str,
        at: &str,
    ) -> Result<String> {
        match obj.get(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.err(format!("{at}`{key}` must be a string, not {}", kind(v)))),
        }
    }

    fn strings(&mut self, obj: &Map<String, Value>, key: &str, at: &str) -> Result<Vec<String>> {
        match obj.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                self.count(a.len())?;
                a.iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        v => Err(self.err(format!(
                            "{at}`{key}` must be a list of strings, not hold {}",
                            kind(v)
                        ))),
                    })
                    .collect()
            }
            Some(v) => Err(self.err(format!("{at}`{key}` must be a list, not {}", kind(v)))),
        }
    }

    /// A JSON object of strings, in document order.
    fn string_map(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Vec<(String, String)>> {
        match obj.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => {
                self.count(m.len())?;
                m.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        v => Err(self.err(format!(
                            "{at}`{key}`: the value of {k:?} must be a string, not {}",
                            kind(v)
                        ))),
                    })
                    .collect()
            }
            Some(v) => Err(self.err(format!("{at}`{key}` must be an object, not {}", kind(v)))),
        }
    }

    fn int(&self, obj: &Map<String, Value>, key: &str, default: i64, at: &str) -> Result<i64> {
        match obj.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or(default)),
            Some(v) => Err(self.err(format!("{at}`{key}` must be an integer, not {}", kind(v)))),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Python's truthiness of a JSON value (upstream's `bool(config.get("debug"))`).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// A header name or value that would break the message framing is refused.
fn check_header(ctx: &Ctx<'_>, at: &str, name: &str, value: &str) -> Result<()> {
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token || value.contains(['\r', '\n', '\0']) {
        return Err(ctx.err(format!(
            "{at}header {name:?}: {value:?} is not a valid header"
        )));
    }
    Ok(())
}

fn parse_run(ctx: &mut Ctx<'_>, obj: &Map<String, Value>, at: &str) -> Result<RunOp> {
    let args = ctx.strings(obj, "args", at)?;
    let env = ctx.string_map(obj, "env", at)?;
    for (k, _) in &env {
        if k.is_empty() || k.contains(['=', '\0']) {
            return Err(ctx.err(format!("{at}environment variable name {k:?} is not valid")));
        }
    }
    let root = match obj.get("root") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => {
            check_relative(ctx, s)?;
            Some(s.clone())
        }
        Some(v) => return Err(ctx.err(format!("{at}`root` must be a string, not {}", kind(v)))),
    };
    Ok(RunOp { args, env, root })
}

/// A fixture path: relative, below the spec's directory, without `..`.
fn check_relative(ctx: &Ctx<'_>, p: &str) -> Result<()> {
    let path = Path::new(p);
    if p.contains('\0')
        || path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(ctx.err(format!(
            "`root` {p:?} must be a relative path inside the suite directory: refused"
        )));
    }
    Ok(())
}

fn parse_response(ctx: &mut Ctx<'_>, v: Option<&Value>, at: &str) -> Result<ExpectedResponse> {
    let empty = Map::new();
    let obj = match v {
        None => &empty,
        Some(Value::Object(o)) => o,
        Some(v) => {
            return Err(ctx.err(format!("{at}`response` must be an object, not {}", kind(v))));
        }
    };
    Ok(ExpectedResponse {
        status: ctx.int(obj, "status", 200, at)?,
        headers: ctx.string_map(obj, "headers", at)?,
        body: ctx.string(obj, "body", "", at)?,
    })
}

fn parse_op(ctx: &mut Ctx<'_>, i: usize, v: &Value) -> Result<Op> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!("operation {i} must be an object, not {}", kind(v))));
    };
    let ty = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        other => {
            return Err(ctx.err(format!(
                "operation {i}: unsupported operation type {}",
                other
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "None".into())
            )));
        }
    };
    let at = format!("operation {i} ({ty}): ");
    let at = at.as_str();
    let id = |ctx: &Ctx<'_>, default: &str| ctx.string(obj, "id", default, at);
    let required_id = |ctx: &Ctx<'_>| match obj.get("id") {
        Some(Value::String(s)) => Ok(s.clone()),
        None => Err(ctx.err(format!("{at}requires an `id`"))),
        Some(v) => Err(ctx.err(format!("{at}`id` must be a string, not {}", kind(v)))),
    };
    Ok(match ty {
        "run" => Op::Run(parse_run(ctx, obj, at)?),
        "wait" => Op::Wait {
            exit_code: ctx.int(obj, "exit_code", 0, at)?,
        },
        "read" => Op::Read {
            id: id(ctx, "stdout")?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "write" => Op::Write {
            id: id(ctx, "write")?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "connect" => {
            let proto = ctx.string(obj, "protocol_type", "tcp", at)?;
            if !matches!(proto.as_str(), "tcp" | "udp" | "http") {
                return Err(ctx.err(format!("{at}unknown protocol_type {proto:?}")));
            }
            if proto != "tcp" {
                // Upstream's validator: only tcp can be connected.
                return Err(ctx.err(format!("{at}protocol_type {proto:?} is not supported")));
            }
            Op::Connect {
                id: id(ctx, "server")?,
            }
        }
        "send" => Op::Send {
            id: required_id(ctx)?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "recv" => Op::Recv {
            id: required_id(ctx)?,
            payload: ctx.string(obj, "payload", "", at)?,
        },
        "request" => {
            let method = ctx.string(obj, "method", "GET", at)?;
            if method.is_empty()
                || !method
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                return Err(ctx.err(format!("{at}method {method:?} is not an HTTP method token")));
            }
            let path = ctx.string(obj, "path", "/", at)?;
            if path.contains(['\r', '\n', '\0']) {
                return Err(ctx.err(format!("{at}path {path:?} holds a line break")));
            }
            let headers = ctx.string_map(obj, "headers", at)?;
            Op::Request(RequestOp {
                method,
                path,
                headers,
                body: ctx.string(obj, "body", "", at)?,
                response: parse_response(ctx, obj.get("response"), at)?,
            })
        }
        "kill" => {
            let name = ctx.string(obj, "signal", "SIGTERM", at)?;
            let Some((_, number)) = SIGNALS.iter().find(|(n, _)| *n == name) else {
                return Err(ctx.err(format!("{at}unknown signal name {name:?}")));
            };
            Op::Kill {
                signal: Signal {
                    name,
                    number: *number,
                },
            }
        }
        other => return Err(ctx.err(format!("operation {i}: unsupported operation type {other}"))),
    })
}

fn parse_endpoint(ctx: &mut Ctx<'_>, v: &Value, at: &str) -> Result<Endpoint> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!(
            "{at}an endpoint must be an object, not {}",
            kind(v)
        )));
    };
    let method = ctx.string(obj, "method", "GET", at)?.to_uppercase();
    if !["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].contains(&method.as_str()) {
        return Err(ctx.err(format!("{at}unknown endpoint method {method:?}")));
    }
    let path = ctx.string(obj, "path", "/", at)?;
    let mode = match ctx.string(obj, "mode", "static", at)?.as_str() {
        "static" => EndpointMode::Static,
        "echo-body" => EndpointMode::EchoBody,
        "echo-headers" => EndpointMode::EchoHeaders,
        m => return Err(ctx.err(format!("{at}unknown endpoint mode {m:?}"))),
    };
    if mode != EndpointMode::Static {
        if obj.contains_key("response") {
            return Err(ctx.err(format!(
                "{at}an endpoint in an echo mode takes no `response`"
            )));
        }
        return Ok(Endpoint {
            method,
            path,
            mode,
            response: None,
        });
    }
    let response = match obj.get("response") {
        None => EndpointResponse {
            status: 200,
            headers: Vec::new(),
            body: String::new(),
            chunks: None,
            trailers: Vec::new(),
        },
        Some(Value::String(body)) => EndpointResponse {
            status: 200,
            headers: Vec::new(),
            body: body.clone(),
            chunks: None,
            trailers: Vec::new(),
        },
        Some(Value::Object(r)) => {
            let status = ctx.int(r, "status", 200, at)?;
            let status = u16::try_from(status)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| ctx.err(format!("{at}status {status} is not an HTTP status")))?;
            let headers = ctx.string_map(r, "headers", at)?;
            let body = ctx.string(r, "body", "", at)?;
            let chunks = match r.get("chunks") {
                None | Some(Value::Null) => None,
                Some(_) => {
                    if r.contains_key("body") {
                        return Err(
                            ctx.err(format!("{at}a response takes `body` or `chunks`, not both"))
                        );
                    }
                    Some(ctx.strings(r, "chunks", at)?)
                }
            };
            let trailers = ctx.string_map(r, "trailers", at)?;
            if !trailers.is_empty() && chunks.is_none() {
                return Err(ctx.err(format!("{at}`trailers` need `chunks`")));
            }
            for (k, v) in headers.iter().chain(&trailers) {
                check_header(ctx, at, k, v)?;
            }
            EndpointResponse {
                status,
                headers,
                body,
                chunks,
                trailers,
            }
        }
        Some(v) => {
            return Err(ctx.err(format!(
                "{at}an endpoint's `response` must be a string or an object, not {}",
                kind(v)
            )));
        }
    };
    Ok(Endpoint {
        method,
        path,
        mode,
        response: Some(response),
    })
}

fn parse_server(ctx: &mut Ctx<'_>, i: usize, v: &Value) -> Result<Server> {
    let Value::Object(obj) = v else {
        return Err(ctx.err(format!("server {i} must be an object, not {}", kind(v))));
    };
    let at = format!("server {i}: ");
    let at = at.as_str();
    let name = match obj.get("name") {
        Some(Value::String(s))
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            s.clone()
        }
        _ => {
            return Err(ctx.err(format!(
                "{at}`name` must be a non-empty string of [A-Za-z0-9_]"
            )));
        }
    };
    let closed = match ctx.string(obj, "kind", "listening", at)?.as_str() {
        "listening" => false,
        "closed" => true,
        k => return Err(ctx.err(format!("{at}unknown server kind {k:?}"))),
    };
    if closed {
        if obj.contains_key("endpoints") {
            return Err(ctx.err(format!(
                "{at}a server of kind `closed` takes no `endpoints`"
            )));
        }
        return Ok(Server {
            name,
            closed,
            endpoints: Vec::new(),
        });
    }
    let endpoints = match obj.get("endpoints") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            ctx.count(a.len())?;
            a.iter()
                .map(|e| parse_endpoint(ctx, e, at))
                .collect::<Result<_>>()?
        }
        Some(v) => return Err(ctx.err(format!("{at}`endpoints` must be a list, not {}", kind(v)))),
    };
    Ok(Server {
        name,
        closed,
        endpoints,
    })
}

/// Parse and validate the text of a spec (`NAME.json`) as upstream's `Config.from_file` and
/// `TestCaseValidator` do. `file` names it in errors. Pure (no filesystem): the loader and the
/// `wasi_testsuite_spec` fuzz target use it.
pub fn parse_testsuite_spec(text: &str, file: &Path) -> Result<TestSpec> {
    if text.len() as u64 > MAX_SPEC_BYTES {
        return Err(Error::suite(
            file,
            format!(
                "{} bytes, larger than the {MAX_SPEC_BYTES}-byte bound for a test spec",
                text.len()
            ),
        ));
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::suite(file, format!("invalid test spec: {e}")))?;
    let mut ctx = Ctx { file, items: 0 };
    let Value::Object(obj) = &v else {
        return Err(ctx.err(format!("a test spec must be an object, not {}", kind(&v))));
    };
    let present = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let op_style = present("operations") || present("proposals") || present("servers");
    let has = |keys: &[&str]| obj.keys().any(|k| keys.contains(&k.as_str()));
    if has(CONFIG_KEYS) && has(LEGACY_KEYS) {
        return Err(
            ctx.err("cannot mix configuration styles (legacy keys and operation-style keys)")
        );
    }
    let expected = if op_style { CONFIG_KEYS } else { LEGACY_KEYS };
    let ignored_keys: Vec<String> = obj
        .keys()
        .filter(|k| !expected.contains(&k.as_str()))
        .cloned()
        .collect();
    let mut spec = if op_style {
        let operations = match obj.get("operations") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .enumerate()
                    .map(|(i, o)| parse_op(&mut ctx, i, o))
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`operations` must be a list, not {}", kind(v)))),
        };
        let proposals = match obj.get("proposals") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .map(|p| {
                        p.as_str()
                            .and_then(Proposal::parse)
                            .ok_or_else(|| ctx.err(format!("unknown proposal {p}")))
                    })
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`proposals` must be a list, not {}", kind(v)))),
        };
        let servers: Vec<Server> = match obj.get("servers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                ctx.count(a.len())?;
                a.iter()
                    .enumerate()
                    .map(|(i, s)| parse_server(&mut ctx, i, s))
                    .collect::<Result<_>>()?
            }
            Some(v) => return Err(ctx.err(format!("`servers` must be a list, not {}", kind(v)))),
        };
        let mut names: Vec<String> = servers.iter().map(|s| s.name.to_uppercase()).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ctx.err(format!("duplicate server name {}", w[0])));
        }
        let world = match obj.get("world") {
            None => World::CliCommand,
            Some(w) => w
                .as_str()
                .and_then(World::parse)
                .ok_or_else(|| ctx.err(format!("unknown WASI world {w}")))?,
        };
        TestSpec {
            style: Style::Operations,
            operations,
            proposals,
            world,
            servers,
            debug: truthy(obj.get("debug")),
            ignored_keys,
            fixture_dirs: Vec::new(),
            env: BTreeMap::new(),
        }
    } else {
        let run = parse_run(&mut ctx, obj, "")?;
        let mut operations = vec![Op::Run(run)];
        for id in ["stdout", "stderr"] {
            match obj.get(id) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => operations.push(Op::Read {
                    id: id.into(),
                    payload: s.clone(),
                }),
                Some(v) => return Err(ctx.err(format!("`{id}` must be a string, not {}", kind(v)))),
            }
        }
        operations.push(Op::Wait {
            exit_code: ctx.int(obj, "exit_code", 0, "")?,
        });
        TestSpec {
            style: Style::Legacy,
            operations,
            proposals: Vec::new(),
            world: World::CliCommand,
            servers: Vec::new(),
            debug: false,
            ignored_keys,
            fixture_dirs: Vec::new(),
            env: BTreeMap::new(),
        }
    };
    for op in &spec.operations {
        if let Op::Run(r) = op {
            if let Some(root) = &r.root
                && !spec.fixture_dirs.contains(root)
            {
                spec.fixture_dirs.push(root.clone());
            }
            spec.env.extend(r.env.iter().cloned());
        }
    }
    validate(&spec).map_err(|e| ctx.err(e))?;
    Ok(spec)
}

/// Upstream's `TestCaseValidator`: a dry run that checks every operation has what it needs (a
/// running guest, a stream of the right kind) and that the spec ends with no guest running.
fn validate(spec: &TestSpec) -> Result<()> {
    #[derive(PartialEq, Clone, Copy, Debug)]
    enum Kind {
        Readable,
        Writable,
        Socket,
    }
    let mut running = false;
    let mut streams: BTreeMap<String, Kind> = BTreeMap::new();
    let stream =
        |streams: &BTreeMap<String, Kind>, i: usize, op: &str, id: &str, want: Kind| match streams
            .get(id)
        {
            None => Err(Error::Rule(format!(
                "operation {i} ({op}): no such stream: {id}"
            ))),
            Some(k) if *k != want => Err(Error::Rule(format!(
                "operation {i} ({op}): expected a {want:?} stream, but `{id}` is {k:?}"
            ))),
            Some(_) => Ok(()),
        };
    for (i, op) in spec.operations.iter().enumerate() {
        let name = op.name();
        if !matches!(op, Op::Run(_)) && !running {
            return Err(Error::Rule(format!(
                "operation {i} ({name}): no process running"
            )));
        }
        match op {
            Op::Run(_) => {
                if running {
                    return Err(Error::Rule(format!(
                        "operation {i} (run): process still running"
                    )));
                }
                for (id, k) in [
                    ("stdin", Kind::Writable),
                    ("stdout", Kind::Readable),
                    ("stderr", Kind::Readable),
                ] {
                    if streams.insert(id.into(), k).is_some() {
                        return Err(Error::Rule(format!(
                            "operation {i} (run): stream exists: {id}"
                        )));
                    }
                }
                running = true;
            }
            Op::Write { id, .. } => stream(&streams, i, name, id, Kind::Writable)?,
            Op::Read { id, .. } => stream(&streams, i, name, id, Kind::Readable)?,
            Op::Connect { id } => {
                if streams.insert(id.clone(), Kind::Socket).is_some() {
                    return Err(Error::Rule(format!(
                        "operation {i} (connect): stream exists: {id}"
                    )));
                }
            }
            Op::Send { id, .. } | Op::Recv { id, .. } => {
                stream(&streams, i, name, id, Kind::Socket)?
            }
            Op::Wait { .. } => {
                running = false;
                streams.clear();
            }
            Op::Request(_) | Op::Kill { .. } => {}
        }
    }
    if running || !streams.is_empty() {
        return Err(Error::Rule(
            "the operations must end with `wait` (a process is still running)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TestSpec> {
        parse_testsuite_spec(text, Path::new("t.json"))
    }

    #[test]
    fn legacy_specs_become_run_read_wait() {
        let s = parse(r#"{"args": ["a"], "env": {"B": "1", "A": "2"}, "root": "fs.dir", "stdout": "hi", "stderr": "", "exit_code": 3}"#).unwrap();
        assert_eq!(s.style, Style::Legacy);
        assert_eq!(
            s.operations,
            vec![
                Op::Run(RunOp {
                    args: vec!["a".into()],
                    env: vec![("B".into(), "1".into()), ("A".into(), "2".into())],
                    root: Some("fs.dir".into()),
                }),
                Op::Read {
                    id: "stdout".into(),
                    payload: "hi".into()
                },
                Op::Read {
                    id: "stderr".into(),
                    payload: "".into()
                },
                Op::Wait { exit_code: 3 },
            ]
        );
        assert_eq!(s.fixture_dirs, ["fs.dir"]);
        // `world` alone is a legacy spec with an ignored key; `dirs` is ignored too.
        let s = parse(r#"{"world": "wasi:http/service", "dirs": ["x"]}"#).unwrap();
        assert_eq!(s.style, Style::Legacy);
        assert_eq!(s.world, World::CliCommand);
        assert_eq!(s.ignored_keys, ["world", "dirs"]);
        // null `stdout` is not checked; an empty root is no root.
        let s = parse(r#"{"stdout": null, "root": ""}"#).unwrap();
        assert_eq!(s.operations.len(), 2);
        assert!(s.fixture_dirs.is_empty());
    }

    #[test]
    fn operation_style_specs_keep_their_operations() {
        let s = parse(r#"{"proposals": ["sockets"], "operations": [{"type": "run"}, {"type": "connect", "id": "e"}, {"type": "send", "id": "e", "payload": "x"}, {"type": "recv", "id": "e", "payload": "x"}, {"type": "kill"}, {"type": "wait", "exit_code": 1}]}"#).unwrap();
        assert_eq!(s.style, Style::Operations);
        assert_eq!(s.proposals, [Proposal::Sockets]);
        assert!(
            matches!(&s.operations[4], Op::Kill { signal } if signal.name == "SIGTERM" && signal.number == libc::SIGTERM)
        );
        // Operation style without `operations` runs nothing.
        let s = parse(r#"{"proposals": ["http"]}"#).unwrap();
        assert!(s.operations.is_empty());
        let s = parse(r#"{"proposals": ["http"], "world": "wasi:http/service", "debug": 1, "servers": [{"name": "main", "endpoints": [{"method": "get", "response": "ok"}, {"path": "/e", "mode": "echo-body"}]}, {"name": "dead", "kind": "closed"}]}"#).unwrap();
        assert!(s.debug);
        assert_eq!(s.servers[0].endpoints[0].method, "GET");
        assert_eq!(s.servers[0].env_var(), "HTTP_SERVER_MAIN");
        assert!(s.servers[1].closed);
        assert_eq!(s.ignored_keys, ["debug"]);
    }

    #[test]
    fn invalid_specs_are_refused_as_upstream_refuses_them() {
        for bad in [
            r#"{"args": [], "operations": []}"#,
            r#"{"operations": [{"type": "nope"}]}"#,
            r#"{"operations": [{"type": "run"}]}"#,
            r#"{"operations": [{"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "run"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "read", "id": "stdin"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "write", "payload": "x"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "send", "id": "s"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "send"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "connect", "protocol_type": "udp"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "connect", "id": "stdout"}, {"type": "wait"}]}"#,
            r#"{"operations": [{"type": "run"}, {"type": "kill", "signal": "SIGNOPE"}, {"type": "wait"}]}"#,
            r#"{"proposals": ["threads"]}"#,
            r#"{"proposals": [], "world": "wasi:cli/other"}"#,
            r#"{"servers": [{"name": "a"}, {"name": "A"}]}"#,
            r#"{"servers": [{"name": "a-b"}]}"#,
            r#"{"servers": [{"name": "a", "kind": "closed", "endpoints": []}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"mode": "echo-body", "response": "x"}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"response": {"body": "x", "chunks": []}}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"response": {"trailers": {"a": "b"}}}]}]}"#,
            r#"{"servers": [{"name": "a", "endpoints": [{"method": "BREW"}]}]}"#,
            r#"{"root": "../etc"}"#,
            r#"{"root": "/etc"}"#,
            r#"{"env": {"A=B": "c"}}"#,
            r#"{"args": [null]}"#,
            r#"{"exit_code": null}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
