//! Which WebAssembly proposals a function body really uses.
//!
//! Function bodies are validated with wasmparser's `FuncValidator`; [`Tracker`] wraps the
//! validator's operator visitor and records the proposal of every operator it forwards, so
//! feature detection costs one bit-or per operator on top of validation (no second pass).

use wasmparser::*;

/// One bit per proposal in wasmparser's operator table (`@mvp`, `@simd`, ...).
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Clone, Copy)]
#[repr(u32)]
enum Proposal {
    mvp,
    sign_extension,
    gc,
    custom_descriptors,
    saturating_float_to_int,
    bulk_memory,
    reference_types,
    tail_call,
    memory_control,
    threads,
    simd,
    relaxed_simd,
    exceptions,
    legacy_exceptions,
    shared_everything_threads,
    function_references,
    stack_switching,
    wide_arithmetic,
}

/// Feature names for the proposal bits, in bit order; `None` for the MVP.
const NAMES: &[Option<&str>] = &[
    None,
    Some("sign-extension"),
    Some("gc"),
    Some("custom-descriptors"),
    Some("saturating-float-to-int"),
    Some("bulk-memory"),
    Some("reference-types"),
    Some("tail-call"),
    Some("memory-control"),
    Some("threads"),
    Some("simd"),
    Some("relaxed-simd"),
    Some("exceptions"),
    Some("legacy-exceptions"),
    Some("shared-everything-threads"),
    Some("function-references"),
    Some("stack-switching"),
    Some("wide-arithmetic"),
];

/// The feature names of a proposal bit set.
pub fn names(bits: u32) -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .filter_map(|(_, n)| *n)
}

/// Forwards every operator to `inner` (the validator) and records its proposal in `used`.
pub struct Tracker<'u, V> {
    pub inner: V,
    pub used: &'u mut u32,
}

macro_rules! define_tracking {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(,$arg: $argty)*)?) -> Self::Output {
                *self.used |= 1 << (Proposal::$proposal as u32);
                self.inner.$visit($($($arg),*)?)
            }
        )*
    };
}

macro_rules! define_tracking_simd {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(,$arg: $argty)*)?) -> Self::Output {
                *self.used |= 1 << (Proposal::$proposal as u32);
                match self.inner.simd_visitor() {
                    Some(v) => v.$visit($($($arg),*)?),
                    // `simd_visitor` below only hands out this visitor when the inner one has
                    // SIMD enabled, so this arm cannot run.
                    None => unreachable!("SIMD visitor requested without SIMD support"),
                }
            }
        )*
    };
}

impl<'a, V> VisitOperator<'a> for Tracker<'_, V>
where
    V: VisitOperator<'a, Output = Result<()>>,
{
    type Output = Result<()>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        self.inner.simd_visitor()?;
        Some(self)
    }

    for_each_visit_operator!(define_tracking);
}

impl<'a, V> VisitSimdOperator<'a> for Tracker<'_, V>
where
    V: VisitOperator<'a, Output = Result<()>>,
{
    for_each_visit_simd_operator!(define_tracking_simd);
}

impl<V: FrameStack> FrameStack for Tracker<'_, V> {
    fn current_frame(&self) -> Option<FrameKind> {
        self.inner.current_frame()
    }
}

/// Validates one function body and returns the proposal bits its operators use.
pub fn validate_body<R: WasmModuleResources>(
    validator: &mut FuncValidator<R>,
    body: &FunctionBody<'_>,
) -> Result<u32> {
    let mut used = 0u32;
    // Locals can need a proposal of their own (a `v128` local is SIMD even with no SIMD op).
    if let Ok(locals) = body.get_locals_reader() {
        for l in locals.into_iter().take(4096) {
            let Ok((_, ty)) = l else { break };
            used |= match ty {
                ValType::V128 => 1 << (Proposal::simd as u32),
                ValType::Ref(r) if r == RefType::FUNCREF => 1 << (Proposal::reference_types as u32),
                ValType::Ref(r) if r == RefType::EXTERNREF => {
                    1 << (Proposal::reference_types as u32)
                }
                ValType::Ref(_) => 1 << (Proposal::function_references as u32),
                _ => 0,
            };
        }
    }
    let mut reader = body.get_binary_reader();
    validator.read_locals(&mut reader)?;
    reader.set_features(WasmFeatures::all());
    while !reader.eof() {
        let pos = reader.original_position();
        let mut t = Tracker {
            inner: validator.visitor(pos),
            used: &mut used,
        };
        reader.visit_operator(&mut t)??;
    }
    reader.finish_expression(&validator.visitor(reader.original_position()))?;
    Ok(used)
}

/// Records the proposals of the operators in a constant expression (global initialisers,
/// segment offsets) without validating; only `extended-const` and GC/ref ops matter here.
pub fn const_expr_features(
    expr: &ConstExpr<'_>,
    out: &mut std::collections::BTreeSet<&'static str>,
) {
    let mut reader = expr.get_operators_reader();
    // Bounded by the expression's bytes: every read consumes at least one byte.
    while !reader.eof() {
        let Ok(op) = reader.read() else { return };
        match op {
            Operator::I32Const { .. }
            | Operator::I64Const { .. }
            | Operator::F32Const { .. }
            | Operator::F64Const { .. }
            | Operator::GlobalGet { .. }
            | Operator::End => {}
            Operator::V128Const { .. } => {
                out.insert("simd");
            }
            Operator::RefNull { .. } | Operator::RefFunc { .. } => {
                out.insert("reference-types");
            }
            Operator::I32Add
            | Operator::I32Sub
            | Operator::I32Mul
            | Operator::I64Add
            | Operator::I64Sub
            | Operator::I64Mul => {
                out.insert("extended-const");
            }
            _ => {
                out.insert("gc");
            }
        }
    }
}

/// Every feature name the analyzer can report, sorted: the operator proposals above plus the
/// ones learned from declarations (types, memories, sections). Policies check their feature
/// lists against it so a typo is an error, not a rule that never fires.
pub const ALL: &[&str] = &[
    "bulk-memory",
    "component-model",
    "component-model-async",
    "custom-descriptors",
    "custom-page-sizes",
    "exceptions",
    "extended-const",
    "function-references",
    "gc",
    "legacy-exceptions",
    "memory-control",
    "memory64",
    "multi-memory",
    "multi-value",
    "mutable-global",
    "reference-types",
    "relaxed-simd",
    "saturating-float-to-int",
    "shared-everything-threads",
    "sign-extension",
    "simd",
    "stack-switching",
    "tail-call",
    "threads",
    "wide-arithmetic",
];

#[cfg(test)]
mod tests {
    #[test]
    fn vocabulary_is_sorted_and_covers_every_emitted_name() {
        assert!(super::ALL.windows(2).all(|w| w[0] < w[1]));
        for n in super::NAMES.iter().flatten() {
            assert!(super::ALL.contains(n), "{n} missing from ALL");
        }
        // Names inserted from declarations, found in the sources so a new one cannot be missed.
        let sources = [
            include_str!("analyze.rs"),
            include_str!("component.rs"),
            include_str!("custom_sections.rs"),
            include_str!("finish.rs"),
            include_str!("types.rs"),
            include_str!("features.rs"),
        ];
        let mut seen = 0;
        for src in sources {
            for marker in ["features.insert(\"", "out.insert(\""] {
                for part in src.split(marker).skip(1) {
                    let name = &part[..part.find('"').unwrap()];
                    assert!(super::ALL.contains(&name), "{name} missing from ALL");
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "the source scan found only {seen} insertions");
    }
}
