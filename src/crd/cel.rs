//! The CEL rules (`x-kubernetes-validations`) of a CustomResourceDefinition's structural schema,
//! compiled once when a version is registered and evaluated on every create and update of its
//! custom resources, so that objects are rejected with the paths, reasons and wording
//! kube-apiserver gives (after apiextensions-apiserver's `schema/cel` package); and the
//! untyped CEL of admission (webhooks' match conditions, ValidatingAdmissionPolicies), checked
//! when written and evaluated over JSON.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use ::cel::common::ast::{EntryExpr, Expr, IdedExpr};
use ::cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelOptional, CelString,
};
use ::cel::common::value::Val;
use ::cel::{Context, Env, ExecutionError, ParseErrors, Program, Value as CelValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, ValidationRule,
};
use serde_json::{Map, Number, Value};

use crate::validation::{ErrorList, FieldError, GoValue, Path, Rendered};

/// The variable bound to the value at the rule's node.
const SELF: &str = "self";
/// The variable bound to the stored value at the rule's node; a rule naming it is a transition rule.
const OLD_SELF: &str = "oldSelf";

/// Identifiers that name types rather than variables (`type(self) == string`).
const TYPE_NAMES: [&str; 12] = [
    "bool",
    "bytes",
    "double",
    "dyn",
    "int",
    "list",
    "map",
    "null_type",
    "optional_type",
    "string",
    "type",
    "uint",
];

/// Identifiers that qualify a function of the environment (`optional.none()`, `strings.quote(s)`,
/// `ip.isCanonical(s)`).
const NAMESPACES: [&str; 3] = ["ip", "optional", "strings"];

/// The reasons a rule may give, sorted as upstream lists them when one is not supported.
const REASONS: [&str; 4] = [
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

/// Property names CEL reserves: upstream exposes such a property as `__name__`.
const RESERVED: [&str; 21] = [
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
];

/// The longest message a `messageExpression` may produce (upstream's
/// `MaxEvaluatedMessageExpressionSizeBytes`); a longer one falls back to the static message.
const MAX_MESSAGE_BYTES: usize = 5 * 1024;

/// One environment for every rule: the standard library, optional values, the strings
/// extension and Kubernetes' own libraries, as far as the crate has the libraries of
/// Kubernetes' base environment.
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    env.add_extension(::cel::extensions::strings)
        .expect("the strings extension declares each of its overloads once");
    env.add_extension(super::cel_library::extension)
        .expect("Kubernetes' libraries declare each of their overloads once");
    Arc::new(env)
});

/// Whether `source` parses and names no variable but `declared`, for the CEL of admission
/// (policies' validations, variables and match conditions) that is checked when it is written;
/// the issues as cel-go prints them otherwise (`ERROR: <input>:1:5: ...`).
pub fn check(source: &str, declared: &[&str]) -> Result<(), String> {
    parse_declared(source, declared).map(drop)
}

/// Evaluates `source` over untyped JSON `variables`, for the CEL that is not tied to a schema
/// (admission webhooks' and policies' expressions), and gives its result back as JSON.
pub fn evaluate(source: &str, variables: &[(&str, &Value)]) -> Result<Value, String> {
    let program = parse(source)?;
    let mut context = Context::with_env(Arc::clone(&*ENV));
    for (name, value) in variables {
        let value = ::cel::to_value(value).map_err(|e| e.to_string())?;
        context.add_variable_from_value(*name, value);
    }
    let result = program.execute(&context).map_err(|e| e.to_string())?;
    json(&result)
}

/// [`evaluate`] for a condition: anything but `true` or `false` is an error.
pub fn holds(source: &str, variables: &[(&str, &Value)]) -> Result<bool, String> {
    match evaluate(source, variables)? {
        Value::Bool(holds) => Ok(holds),
        other => Err(format!("expected a boolean, got {other}")),
    }
}

/// A message a `messageExpression` produced, trimmed, or `None` to fall back to the static one,
/// as upstream does when it is empty, multi-line or too long.
pub fn usable_message(message: &str) -> Option<String> {
    let message = message.trim();
    let usable =
        !message.is_empty() && !message.contains('\n') && message.len() <= MAX_MESSAGE_BYTES;
    usable.then(|| message.to_owned())
}

/// Whether `name` can name a CEL variable (upstream's `isCELIdentifier`): `[_a-zA-Z][_a-zA-Z0-9]*`
/// and not a reserved word.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !RESERVED.contains(&name)
}

/// A CEL value as JSON: bytes in base64, as the API writes them; what JSON has no form for
/// (types, functions, non-finite numbers) is an error.
fn json(value: &CelValue) -> Result<Value, String> {
    Ok(match value {
        CelValue::Null => Value::Null,
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::from(*i),
        CelValue::UInt(u) => Value::from(*u),
        CelValue::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} has no JSON form"))?,
        CelValue::String(s) => Value::String(s.to_string()),
        CelValue::Bytes(b) => Value::String(STANDARD.encode(b.as_slice())),
        CelValue::List(items) => Value::Array(items.iter().map(json).collect::<Result<_, _>>()?),
        CelValue::Map(map) => Value::Object(
            map.map
                .iter()
                .map(|(key, value)| Ok((key.to_string(), json(value)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => return Err(format!("{other:?} has no JSON form")),
    })
}

/// The CEL rules of one version's schema, compiled once when the CRD is registered.
///
/// It mirrors the schema (properties, items, additionalProperties) so that each value of a custom
/// resource is handed to CEL with the types its schema gives it, whether or not rules sit there.
#[derive(Debug)]
pub struct Rules {
    root: Node,
}

impl Rules {
    /// Compiles every `x-kubernetes-validations` rule found anywhere in the schema (root,
    /// properties, items, additionalProperties, and allOf entries, which upstream evaluates too),
    /// remembering the schema path, so that each rule is evaluated on each value at that path,
    /// every list element and map value included.
    ///
    /// A rule that is malformed or fails to compile gives the field error upstream's CRD
    /// validation gives, under `schema_path` (e.g.
    /// `spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule:
    /// Invalid value: apiextensions.ValidationRule{...}: compilation failed: ERROR: <input>:...`),
    /// so the CRD is refused at registration rather than every custom resource later. As upstream,
    /// the checks of the rules' own fields come first, and a node with such errors (or errors
    /// below it) reports no compilation errors; rules inside `allOf` are not reported here and
    /// fail at evaluation instead.
    pub fn compile(schema: &JSONSchemaProps, schema_path: &Path) -> Result<Rules, ErrorList> {
        let mut compiler = Compiler::default();
        let mut root = compiler.node(schema, schema_path, true, None);
        root.settle();
        let mut errors = compiler.schema_errors;
        errors.extend(compiler.cel_errors);
        if errors.is_empty() {
            Ok(Rules { root })
        } else {
            Err(errors)
        }
    }

    /// Whether there are any rules, so that callers can skip the walk over the object.
    pub fn is_empty(&self) -> bool {
        !self.root.nested_rules
    }

    /// Evaluates the rules on a created (`old` is `None`) or updated object.
    ///
    /// `self` is the value at the rule's node, for each value at that path; null values are not
    /// validated. Transition rules (those naming `oldSelf`) are evaluated only on update, only
    /// where the old object has a value at the same path: object fields are matched by name, and
    /// list elements only in `x-kubernetes-list-type: map` lists, by their keys (a rule with
    /// `optionalOldSelf: true` is also evaluated without one, `oldSelf` being `optional.none()`).
    ///
    /// A failing rule gives `<path>: Invalid value: "<schema type>": <detail>`, the detail being
    /// the `messageExpression`'s result, else the `message`, else `failed rule: <rule>`; the path
    /// is extended by the rule's `fieldPath`, and `reason` turns it into a Forbidden, Required or
    /// Duplicate error. The root is reported at `<nil>`, as upstream validates from a nil path.
    /// Evaluation errors read `<error> evaluating rule: <rule>` (`no such key: replicas ...`).
    ///
    /// As upstream's validation ratcheting does, on update a failure of a rule that does not name
    /// `oldSelf` is dropped when the value it judged is unchanged (upstream turns it into a
    /// warning), so objects stored before a rule was added can still be updated elsewhere.
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> ErrorList {
        let mut errors = ErrorList::new();
        if self.is_empty() {
            return errors;
        }
        let ratchet = match old {
            Some(old) => Ratchet::root(old == object),
            None => Ratchet::OFF,
        };
        self.root
            .validate(&Path::new(""), object, old, ratchet, &mut errors);
        errors
    }
}

/// One schema node: how its values look to CEL, its rules, and its children.
#[derive(Debug)]
struct Node {
    /// The schema's `type`, which upstream shows as the invalid value (`"object"`, or `""` for
    /// int-or-string and untyped nodes).
    type_: String,
    int_or_string: bool,
    /// The root or an embedded resource: `apiVersion`, `kind` and `metadata.name` and
    /// `metadata.generateName` are visible to its rules, whatever the schema says of them.
    resource: bool,
    list_type: ListType,
    properties: BTreeMap<String, Node>,
    items: Option<Box<Node>>,
    additional: Option<Box<Node>>,
    rules: Vec<Rule>,
    /// Whether a rule sits here or below, so the walk skips the branches without any.
    nested_rules: bool,
}

/// How old and new list elements are matched.
#[derive(Debug)]
enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

#[derive(Debug)]
struct Rule {
    source: ValidationRule,
    program: Compiled,
    message: Option<Program>,
    /// The rule names `oldSelf`.
    transition: bool,
    /// The `fieldPath`, normalized to a relative field path (`spec.ports` or `[key]`).
    field_path: Option<String>,
    /// From an `allOf` entry, which upstream ratchets by the parent's value.
    from_all_of: bool,
}

#[derive(Debug)]
enum Compiled {
    /// A blank rule, which upstream skips.
    Empty,
    Ready(Program),
    /// The compilation error, reported on every evaluation as upstream does for rules it first
    /// compiles then (those of `allOf` entries).
    Failed(String),
}

impl Rule {
    fn optional_old_self(&self) -> bool {
        self.transition && self.source.optional_old_self == Some(true)
    }

    /// The rule as error messages name it: its message, else its expression.
    fn error_string(&self) -> &str {
        match self.source.message.as_deref() {
            Some(message) if !message.is_empty() => message.trim(),
            _ => self.source.rule.trim(),
        }
    }

    fn default_message(&self) -> String {
        match self.source.message.as_deref() {
            Some(message) if !message.is_empty() => message.trim().to_string(),
            _ => format!("failed rule: {}", self.error_string()),
        }
    }
}

/// The errors of compilation, kept apart as upstream keeps them: the checks of the rules' own
/// fields are reported before any CEL error.
#[derive(Default)]
struct Compiler {
    schema_errors: ErrorList,
    cel_errors: ErrorList,
}

impl Compiler {
    /// The node of `schema` at `at`; `uncorrelatable` is the path of the nearest enclosing list
    /// whose elements cannot be matched with old ones, where `oldSelf` may not be used.
    fn node(
        &mut self,
        schema: &JSONSchemaProps,
        at: &Path,
        resource: bool,
        uncorrelatable: Option<&Path>,
    ) -> Node {
        let schema_errors_before = self.schema_errors.len();
        let additional = match &schema.additional_properties {
            Some(JSONSchemaPropsOrBool::Schema(s)) => Some(Box::new(self.node(
                s,
                &at.child("additionalProperties"),
                embedded(s),
                uncorrelatable,
            ))),
            _ => None,
        };
        let mut properties = BTreeMap::new();
        for (name, s) in schema.properties.iter().flatten() {
            let child = self.node(
                s,
                &at.child("properties").key(name),
                embedded(s),
                uncorrelatable,
            );
            properties.insert(name.clone(), child);
        }
        let list_type = list_type(schema);
        let items = match &schema.items {
            Some(JSONSchemaPropsOrArray::Schema(s)) => {
                let within = match list_type {
                    ListType::Map(_) => uncorrelatable,
                    _ => uncorrelatable.or(Some(at)),
                };
                Some(Box::new(self.node(
                    s,
                    &at.child("items"),
                    embedded(s),
                    within,
                )))
            }
            _ => None,
        };
        let declared = schema
            .x_kubernetes_validations
            .as_deref()
            .unwrap_or_default();
        let compiled = compile_rules(schema, declared, at, uncorrelatable, false);
        self.schema_errors.extend(compiled.schema_errors);
        if self.schema_errors.len() == schema_errors_before {
            self.cel_errors.extend(compiled.cel_errors);
        }
        let mut node = Node {
            type_: schema.type_.clone().unwrap_or_default(),
            int_or_string: schema.x_kubernetes_int_or_string == Some(true),
            resource,
            list_type,
            properties,
            items,
            additional,
            rules: compiled.rules,
            nested_rules: false,
        };
        for extra in schema.all_of.iter().flatten() {
            node.merge_all_of(schema, extra, at);
        }
        node
    }
}

/// What `compile_rules` makes of one node's rules.
struct CompiledRules {
    rules: Vec<Rule>,
    schema_errors: ErrorList,
    cel_errors: ErrorList,
}

/// Compiles `rules`, found at `at` in a schema whose structure is `schema`.
fn compile_rules(
    schema: &JSONSchemaProps,
    rules: &[ValidationRule],
    at: &Path,
    uncorrelatable: Option<&Path>,
    from_all_of: bool,
) -> CompiledRules {
    let mut out = CompiledRules {
        rules: Vec::new(),
        schema_errors: ErrorList::new(),
        cel_errors: ErrorList::new(),
    };
    for (i, rule) in rules.iter().enumerate() {
        let base = at.child("x-kubernetes-validations").index(i);
        out.schema_errors.extend(check_rule(rule, schema, &base));

        let mut program = Compiled::Empty;
        let mut message = None;
        let mut transition = false;
        if !rule.rule.trim().is_empty() {
            match compile(&rule.rule) {
                Err(issues) => {
                    let detail = format!("compilation failed: {issues}");
                    out.cel_errors.push(FieldError::invalid(
                        &base.child("rule"),
                        go_rule(rule),
                        detail.clone(),
                    ));
                    program = Compiled::Failed(detail);
                }
                Ok((compiled, uses_old_self)) => {
                    transition = uses_old_self;
                    program = Compiled::Ready(compiled);
                    if let Some(expression) = rule.message_expression.as_deref()
                        && !expression.is_empty()
                    {
                        match compile(expression) {
                            Ok((compiled, _)) => message = Some(compiled),
                            Err(issues) => out.cel_errors.push(FieldError::invalid(
                                &base.child("messageExpression"),
                                go_rule(rule),
                                format!("messageExpression compilation failed: {issues}"),
                            )),
                        }
                    }
                }
            }
        }
        if transition {
            if let Some(within) = uncorrelatable {
                out.cel_errors.push(FieldError::invalid(
                    &base.child("rule"),
                    rule.rule.as_str(),
                    format!(
                        "oldSelf cannot be used on the uncorrelatable portion of the schema within {within}"
                    ),
                ));
            }
        } else if let Some(optional) = rule.optional_old_self {
            out.cel_errors.push(FieldError::invalid(
                &base.child("optionalOldSelf"),
                optional,
                "may not be set if oldSelf is not used in rule",
            ));
        }

        let field_path = rule
            .field_path
            .as_deref()
            .filter(|path| !path.is_empty())
            .and_then(|path| normalize_field_path(path, schema));
        out.rules.push(Rule {
            source: rule.clone(),
            program,
            message,
            transition,
            field_path,
            from_all_of,
        });
    }
    out
}

/// Upstream's checks of a rule's own fields, made before any CEL is compiled.
fn check_rule(rule: &ValidationRule, schema: &JSONSchemaProps, base: &Path) -> ErrorList {
    let mut errors = ErrorList::new();
    let trimmed_rule = rule.rule.trim();
    let message = rule.message.as_deref().unwrap_or_default();
    let trimmed_message = message.trim();
    if trimmed_rule.is_empty() {
        errors.push(FieldError::required(
            &base.child("rule"),
            "rule is not specified",
        ));
    } else if !message.is_empty() && trimmed_message.is_empty() {
        errors.push(FieldError::invalid(
            &base.child("message"),
            message,
            "message must be non-empty if specified",
        ));
    } else if has_line_breaks(trimmed_message) {
        errors.push(FieldError::invalid(
            &base.child("message"),
            message,
            "message must not contain line breaks",
        ));
    } else if has_line_breaks(trimmed_rule) && trimmed_message.is_empty() {
        errors.push(FieldError::required(
            &base.child("message"),
            "message must be specified if rule contains line breaks",
        ));
    }
    if let Some(expression) = rule.message_expression.as_deref()
        && !expression.is_empty()
        && expression.trim().is_empty()
    {
        errors.push(FieldError::required(
            &base.child("messageExpression"),
            "messageExpression must be non-empty if specified",
        ));
    }
    if let Some(reason) = rule.reason.as_deref()
        && !REASONS.contains(&reason)
    {
        errors.push(FieldError::not_supported(
            &base.child("reason"),
            reason,
            &REASONS,
        ));
    }
    if let Some(field_path) = rule.field_path.as_deref()
        && !field_path.is_empty()
    {
        let at = base.child("fieldPath");
        if field_path.trim().is_empty() {
            errors.push(FieldError::invalid(
                &at,
                field_path,
                "fieldPath must be non-empty if specified",
            ));
        }
        if has_line_breaks(field_path) {
            errors.push(FieldError::invalid(
                &at,
                field_path,
                "fieldPath must not contain line breaks",
            ));
        }
        if normalize_field_path(field_path, schema).is_none() {
            errors.push(FieldError::invalid(
                &at,
                field_path,
                "fieldPath must be a valid path",
            ));
        }
    }
    errors
}

fn has_line_breaks(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

/// The rule as Go's `%#v` prints upstream's internal `apiextensions.ValidationRule`, the value
/// of a compilation error. Go prints a set pointer as its address, which no one can reproduce;
/// a fixed one reads the same.
fn go_rule(rule: &ValidationRule) -> Rendered {
    fn pointer(set: bool, type_name: &str) -> String {
        if set {
            format!("(*{type_name})(0xc000000000)")
        } else {
            format!("(*{type_name})(nil)")
        }
    }
    Rendered(format!(
        "apiextensions.ValidationRule{{Rule:{}, Message:{}, MessageExpression:{}, Reason:{}, FieldPath:{}, OptionalOldSelf:{}}}",
        rule.rule.go_value(),
        rule.message.as_deref().unwrap_or_default().go_value(),
        rule.message_expression
            .as_deref()
            .unwrap_or_default()
            .go_value(),
        pointer(rule.reason.is_some(), "apiextensions.FieldValueErrorReason"),
        rule.field_path.as_deref().unwrap_or_default().go_value(),
        pointer(rule.optional_old_self.is_some(), "bool"),
    ))
}

/// Parses `source` and checks that it names no variable but `self` and `oldSelf`. Returns the
/// program and whether it names `oldSelf`, or the issues as cel-go prints them.
fn compile(source: &str) -> Result<(Program, bool), String> {
    let (program, read) = parse_declared(source, &[SELF, OLD_SELF])?;
    Ok((program, read.iter().any(|name| name == OLD_SELF)))
}

/// Parses `source` and checks that it names no variable but `declared`, which is the part of
/// cel-go's type check this crate's dynamic interpreter allows. Returns the program and the
/// variables it reads, or the issues as cel-go prints them.
fn parse_declared(source: &str, declared: &[&str]) -> Result<(Program, Vec<String>), String> {
    let program = parse(source)?;
    let mut free = Vec::new();
    free_idents(program.expression(), &mut Vec::new(), &mut free);
    let mut issues: Vec<(usize, usize, String)> = free
        .iter()
        .filter(|(_, name)| !declared.contains(name) && !TYPE_NAMES.contains(name))
        .map(|(id, name)| {
            let (line, column) = program
                .source_info()
                .offset_for(*id)
                .map_or((1, 0), |(start, _)| location(source, start as usize));
            let message = format!("undeclared reference to '{name}' (in container '')");
            (line, column, message)
        })
        .collect();
    if !issues.is_empty() {
        issues.sort();
        issues.dedup();
        let rendered: Vec<String> = issues
            .iter()
            .map(|(line, column, message)| issue(source, *line, *column, message))
            .collect();
        return Err(rendered.join("\n"));
    }
    let read = free.iter().map(|(_, name)| (*name).to_owned()).collect();
    Ok((program, read))
}

/// Parses `source` in the shared environment.
fn parse(source: &str) -> Result<Program, String> {
    ENV.compile(source)
        .map_err(|errors| parse_issues(source, &errors))
}

fn parse_issues(source: &str, errors: &ParseErrors) -> String {
    let rendered: Vec<String> = errors
        .errors
        .iter()
        .map(|error| {
            let line = usize::try_from(error.pos.0).unwrap_or(0);
            let column = usize::try_from(error.pos.1 - 1).unwrap_or(0);
            issue(source, line, column, &error.msg)
        })
        .collect();
    rendered.join("\n")
}

/// One issue as cel-go prints it: `ERROR: <input>:1:5: message`, then the line and a caret
/// under the column (0-based, in characters).
fn issue(source: &str, line: usize, column: usize, message: &str) -> String {
    let mut out = format!("ERROR: <input>:{line}:{}: {message}", column + 1);
    let Some(text) = line
        .checked_sub(1)
        .and_then(|index| source.split('\n').nth(index))
    else {
        return out;
    };
    let text = text.replace('\t', " ");
    out.push_str("\n | ");
    out.push_str(&text);
    out.push_str("\n | ");
    let mut chars = text.chars();
    for _ in 0..column {
        match chars.next() {
            Some(c) if c.len_utf8() > 1 => out.push('\u{ff0e}'),
            Some(_) => out.push('.'),
            None => break,
        }
    }
    let wide = chars.next().is_some_and(|c| c.len_utf8() > 1);
    out.push(if wide { '\u{ff3e}' } else { '^' });
    out
}

/// The line (1-based) and column (0-based, in characters) of a byte offset.
fn location(source: &str, offset: usize) -> (usize, usize) {
    let Some(before) = source.get(..offset) else {
        return (1, 0);
    };
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count())
}

/// The identifiers `expr` reads that no comprehension around them binds, with their ids.
fn free_idents<'e>(expr: &'e IdedExpr, bound: &mut Vec<&'e str>, found: &mut Vec<(u64, &'e str)>) {
    match &expr.expr {
        Expr::Ident(name) => {
            // Macros bind variables named `@...`, which no one can write.
            if !name.starts_with('@') && !bound.contains(&name.as_str()) {
                found.push((expr.id, name.as_str()));
            }
        }
        Expr::Select(select) => free_idents(&select.operand, bound, found),
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                let namespace = matches!(&target.expr, Expr::Ident(name) if NAMESPACES.contains(&name.as_str()));
                if !namespace {
                    free_idents(target, bound, found);
                }
            }
            for arg in &call.args {
                free_idents(arg, bound, found);
            }
        }
        Expr::Comprehension(comprehension) => {
            free_idents(&comprehension.iter_range, bound, found);
            free_idents(&comprehension.accu_init, bound, found);
            let depth = bound.len();
            bound.push(&comprehension.iter_var);
            if let Some(second) = &comprehension.iter_var2 {
                bound.push(second);
            }
            bound.push(&comprehension.accu_var);
            free_idents(&comprehension.loop_cond, bound, found);
            free_idents(&comprehension.loop_step, bound, found);
            free_idents(&comprehension.result, bound, found);
            bound.truncate(depth);
        }
        Expr::List(list) => {
            for element in &list.elements {
                free_idents(element, bound, found);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                entry_idents(&entry.expr, bound, found);
            }
        }
        Expr::Struct(literal) => {
            for entry in &literal.entries {
                entry_idents(&entry.expr, bound, found);
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry_idents<'e>(
    entry: &'e EntryExpr,
    bound: &mut Vec<&'e str>,
    found: &mut Vec<(u64, &'e str)>,
) {
    match entry {
        EntryExpr::MapEntry(entry) => {
            free_idents(&entry.key, bound, found);
            free_idents(&entry.value, bound, found);
        }
        EntryExpr::StructField(field) => free_idents(&field.value, bound, found),
    }
}

/// A rule's `fieldPath` (`.spec.ports`, `['a.b'].c`) checked against the rule node's schema and
/// rendered as the relative field path upstream appends to the node's path, or `None` if it
/// names no field of the schema (after upstream's `ValidFieldPath`).
fn normalize_field_path(path: &str, schema: &JSONSchemaProps) -> Option<String> {
    let mut tokens = field_path_tokens(path).into_iter();
    let mut schema = schema;
    let mut out = Path::new("");
    while let Some(token) = tokens.next() {
        let name = match token {
            "[" => {
                let quoted = tokens.next()?;
                let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
                let name = unescape_single_quoted(inner)?;
                if tokens.next()? != "]" {
                    return None;
                }
                name
            }
            "." => tokens.next()?.to_string(),
            _ => return None,
        };
        match (&schema.properties, &schema.additional_properties) {
            (Some(properties), _) if !properties.is_empty() => {
                schema = properties.get(&name)?;
                out = out.child(&name);
            }
            (_, Some(JSONSchemaPropsOrBool::Schema(values))) => {
                schema = &**values;
                out = out.key(&name);
            }
            _ => return None,
        }
    }
    Some(out.to_string())
}

/// Splits a field path into `.`, `[`, `]`, single-quoted strings and the names between them.
fn field_path_tokens(path: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let bytes = rest.as_bytes();
        let end = match bytes[0] {
            b'\'' => (1..bytes.len())
                .find(|&i| bytes[i] == b'\'' && bytes[i - 1] != b'\\')
                .map_or(bytes.len(), |i| i + 1),
            b'.' | b'[' | b']' => 1,
            _ => bytes
                .iter()
                .position(|b| matches!(b, b'.' | b'[' | b']'))
                .unwrap_or(bytes.len()),
        };
        tokens.push(&rest[..end]);
        rest = &rest[end..];
    }
    tokens
}

fn unescape_single_quoted(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('a') => '\u{7}',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('v') => '\u{b}',
            Some('\'') => '\'',
            Some('\\') => '\\',
            None => '\\',
            Some(_) => return None,
        });
    }
    Some(out)
}

impl Node {
    /// Merges an `allOf` entry into this node: its rules join this node's, and its properties,
    /// items and additionalProperties those of the same name here (upstream evaluates them only
    /// where they lie on the main schema too).
    fn merge_all_of(&mut self, main: &JSONSchemaProps, extra: &JSONSchemaProps, at: &Path) {
        let declared = extra
            .x_kubernetes_validations
            .as_deref()
            .unwrap_or_default();
        self.rules
            .extend(compile_rules(main, declared, at, None, true).rules);
        for (name, s) in extra.properties.iter().flatten() {
            let main_child = main.properties.as_ref().and_then(|p| p.get(name));
            if let (Some(child), Some(main_child)) = (self.properties.get_mut(name), main_child) {
                child.merge_all_of(main_child, s, &at.child("properties").key(name));
            }
        }
        if let (
            Some(child),
            Some(JSONSchemaPropsOrArray::Schema(main_items)),
            Some(JSONSchemaPropsOrArray::Schema(s)),
        ) = (self.items.as_deref_mut(), &main.items, &extra.items)
        {
            child.merge_all_of(main_items, s, &at.child("items"));
        }
        if let (
            Some(child),
            Some(JSONSchemaPropsOrBool::Schema(main_values)),
            Some(JSONSchemaPropsOrBool::Schema(s)),
        ) = (
            self.additional.as_deref_mut(),
            &main.additional_properties,
            &extra.additional_properties,
        ) {
            child.merge_all_of(main_values, s, &at.child("additionalProperties"));
        }
        for nested in extra.all_of.iter().flatten() {
            self.merge_all_of(main, nested, at);
        }
    }

    /// Marks the nodes with rules at or below them; returns whether this one has any.
    fn settle(&mut self) -> bool {
        let mut nested = !self.rules.is_empty();
        for child in self.properties.values_mut() {
            nested |= child.settle();
        }
        if let Some(items) = &mut self.items {
            nested |= items.settle();
        }
        if let Some(additional) = &mut self.additional {
            nested |= additional.settle();
        }
        self.nested_rules = nested;
        nested
    }

    /// Whether upstream shows a field of this schema to CEL: fields of unknown type are left out.
    fn visible(&self) -> bool {
        !self.type_.is_empty() || self.int_or_string
    }

    fn validate<'v>(
        &self,
        at: &Path,
        value: &'v Value,
        old: Option<&'v Value>,
        ratchet: Ratchet,
        errors: &mut ErrorList,
    ) {
        if value.is_null() {
            return;
        }
        let old = old.filter(|old| !old.is_null());
        if !self.rules.is_empty() {
            self.evaluate(at, value, old, ratchet, errors);
        }
        match value {
            Value::Object(fields) => {
                self.validate_fields(at, fields, old.and_then(Value::as_object), ratchet, errors)
            }
            Value::Array(items) => {
                self.validate_items(at, items, old.and_then(Value::as_array), ratchet, errors)
            }
            _ => {}
        }
    }

    fn validate_fields<'v>(
        &self,
        at: &Path,
        fields: &'v Map<String, Value>,
        old: Option<&'v Map<String, Value>>,
        ratchet: Ratchet,
        errors: &mut ErrorList,
    ) {
        for (name, value) in fields {
            let child = match self.properties.get(name) {
                Some(child) => Some((child, at.child(name))),
                None => self
                    .additional
                    .as_deref()
                    .map(|child| (child, at.key(name))),
            };
            let Some((child, path)) = child.filter(|(child, _)| child.nested_rules) else {
                continue;
            };
            let old_value = old.and_then(|old| old.get(name));
            let ratchet = ratchet.field(name, old_value.map(|old| old == value));
            child.validate(&path, value, old_value, ratchet, errors);
        }
    }

    fn validate_items<'v>(
        &self,
        at: &Path,
        items: &'v [Value],
        old: Option<&'v Vec<Value>>,
        ratchet: Ratchet,
        errors: &mut ErrorList,
    ) {
        let Some(item_node) = self.items.as_deref().filter(|node| node.nested_rules) else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let (old_item, ratchet) = match &self.list_type {
                ListType::Map(keys) => {
                    let old_item = old.and_then(|old| find_by_keys(old, item, keys));
                    (old_item, ratchet.item(old_item.map(|old| old == item)))
                }
                ListType::Set => {
                    let unchanged = old.is_some_and(|old| old.contains(item));
                    (None, ratchet.item(unchanged.then_some(true)))
                }
                ListType::Atomic => (None, ratchet.item(None)),
            };
            item_node.validate(&at.index(i), item, old_item, ratchet, errors);
        }
    }

    /// Evaluates this node's rules on `value`.
    fn evaluate<'v>(
        &self,
        at: &Path,
        value: &'v Value,
        old: Option<&'v Value>,
        ratchet: Ratchet,
        errors: &mut ErrorList,
    ) {
        let mut context = Context::with_env(Arc::clone(&*ENV));
        context.add_variable_as_val(SELF, self.to_val(value));
        if let Some(old) = old {
            context.add_variable_as_val(OLD_SELF, self.to_val(old));
        }
        let optional = self.rules.iter().any(Rule::optional_old_self).then(|| {
            let mut context = Context::with_env(Arc::clone(&*ENV));
            context.add_variable_as_val(SELF, self.to_val(value));
            let old_self = match old {
                Some(old) => boxed(CelOptional::of(self.to_val(old))),
                None => boxed(CelOptional::none()),
            };
            context.add_variable_as_val(OLD_SELF, old_self);
            context
        });
        for rule in &self.rules {
            let program = match &rule.program {
                Compiled::Empty => continue,
                Compiled::Failed(detail) => {
                    errors.push(FieldError::invalid(
                        &shown(at),
                        self.type_.as_str(),
                        format!("rule compile error: {detail}"),
                    ));
                    continue;
                }
                Compiled::Ready(program) => program,
            };
            let use_optional = rule.optional_old_self();
            if rule.transition && old.is_none() && !use_optional {
                continue;
            }
            let run_in = match (&optional, use_optional) {
                (Some(optional), true) => optional,
                _ => &context,
            };
            match program.execute(run_in) {
                Ok(CelValue::Bool(true)) => {}
                Ok(_) => {
                    if rule.transition || !ratchet.unchanged(rule.from_all_of) {
                        errors.push(self.failure(rule, at, &context));
                    }
                }
                Err(error) => errors.push(FieldError::invalid(
                    &shown(at),
                    self.type_.as_str(),
                    evaluation_error(&error, rule),
                )),
            }
        }
    }

    /// The error of a rule that evaluated to anything but true.
    fn failure(&self, rule: &Rule, at: &Path, context: &Context<'_, '_>) -> FieldError {
        let path = match &rule.field_path {
            Some(field_path) => at.child(field_path),
            None => shown(at),
        };
        let detail = rule
            .message
            .as_ref()
            .and_then(|program| evaluated_message(program, context))
            .unwrap_or_else(|| rule.default_message());
        match rule.source.reason.as_deref() {
            Some("FieldValueForbidden") => FieldError::forbidden(&path, detail),
            Some("FieldValueRequired") => FieldError::required(&path, detail),
            Some("FieldValueDuplicate") => FieldError::duplicate(&path, self.type_.as_str()),
            _ => FieldError::invalid(&path, self.type_.as_str(), detail),
        }
    }

    fn to_val<'v>(&self, value: &'v Value) -> Box<dyn Val + 'v> {
        to_val(Some(self), value)
    }
}

/// The root is reported at upstream's nil path.
fn shown(at: &Path) -> Path {
    if at.to_string().is_empty() {
        Path::new("<nil>")
    } else {
        at.clone()
    }
}

/// The `messageExpression`'s message, or `None` to fall back to the static one, as upstream
/// does when it fails, is not a string, or is not a [`usable_message`].
fn evaluated_message(program: &Program, context: &Context<'_, '_>) -> Option<String> {
    let Ok(CelValue::String(message)) = program.execute(context) else {
        return None;
    };
    usable_message(&message)
}

/// An evaluation error as upstream words it, in cel-go's words where the crate's differ.
fn evaluation_error(error: &ExecutionError, rule: &Rule) -> String {
    let rule_text = rule.error_string();
    let cause = match error {
        // Without a type checker, calls and operators on the wrong types only fail here, where
        // upstream finds them at runtime only for int-or-string values.
        ExecutionError::NoSuchOverload(_)
        | ExecutionError::UnexpectedType { .. }
        | ExecutionError::ValuesNotComparable(..)
        | ExecutionError::UnsupportedBinaryOperator(..)
        | ExecutionError::InvalidArgumentCount { .. }
        | ExecutionError::NotSupportedAsMethod { .. }
        | ExecutionError::UnsupportedTargetType { .. }
        | ExecutionError::UnsupportedIndex(..)
        | ExecutionError::UnsupportedKeyType(..) => {
            return format!(
                "'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {rule_text}"
            );
        }
        ExecutionError::NoSuchKey(key) => format!("no such key: {key}"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_string(),
        ExecutionError::RemainderByZero(_) => "modulus by zero".to_string(),
        ExecutionError::Overflow(..) => "integer overflow".to_string(),
        ExecutionError::IndexOutOfBounds(index) => match index {
            CelValue::Int(i) => format!("index out of bounds: {i}"),
            CelValue::UInt(u) => format!("index out of bounds: {u}"),
            other => format!("index out of bounds: {other:?}"),
        },
        ExecutionError::UndeclaredReference(name) => format!("undeclared reference to '{name}'"),
        ExecutionError::FunctionError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    format!("{cause} evaluating rule: {rule_text}")
}

/// The old element of a `map` list with the same keys as `item`.
fn find_by_keys<'o>(old: &'o [Value], item: &Value, keys: &[String]) -> Option<&'o Value> {
    let wanted = map_key(item, keys);
    old.iter()
        .find(|candidate| map_key(candidate, keys) == wanted)
}

fn map_key<'a>(item: &'a Value, keys: &[String]) -> Vec<Option<&'a Value>> {
    keys.iter().map(|key| item.get(key.as_str())).collect()
}

fn list_type(schema: &JSONSchemaProps) -> ListType {
    match schema.x_kubernetes_list_type.as_deref() {
        Some("map") => ListType::Map(
            schema
                .x_kubernetes_list_map_keys
                .clone()
                .unwrap_or_default(),
        ),
        Some("set") => ListType::Set,
        _ => ListType::Atomic,
    }
}

fn embedded(schema: &JSONSchemaProps) -> bool {
    schema.x_kubernetes_embedded_resource == Some(true)
}

fn boxed<'v>(value: impl Val + 'v) -> Box<dyn Val + 'v> {
    Box::new(value)
}

/// A JSON value as CEL sees it under `node`'s schema: integers are ints, except under
/// `type: number`, other numbers doubles, objects with properties expose their declared fields
/// (escaped as upstream escapes them, nulls left out as absent), maps all their keys. Without a
/// schema, the value is taken as it is.
fn to_val<'v>(node: Option<&Node>, value: &'v Value) -> Box<dyn Val + 'v> {
    match value {
        Value::Null => boxed(CelNull),
        Value::Bool(b) => boxed(CelBool::from(*b)),
        Value::Number(n) => number(node, n),
        Value::String(s) => boxed(CelString::from(s.as_str())),
        Value::Array(items) => {
            let item_node = node.and_then(|node| node.items.as_deref());
            let items: Vec<Box<dyn Val + 'v>> =
                items.iter().map(|item| to_val(item_node, item)).collect();
            boxed(CelList::from(items))
        }
        Value::Object(fields) => object(node, fields),
    }
}

fn number<'v>(node: Option<&Node>, n: &Number) -> Box<dyn Val + 'v> {
    let double = node.is_some_and(|node| node.type_ == "number");
    match n.as_i64() {
        Some(i) if !double => boxed(CelInt::from(i)),
        _ => boxed(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
    }
}

fn object<'v>(node: Option<&Node>, fields: &'v Map<String, Value>) -> Box<dyn Val + 'v> {
    let mut map: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = HashMap::new();
    match node {
        Some(node) if node.additional.is_some() => {
            let values = node.additional.as_deref();
            for (key, value) in fields {
                map.insert(CelMapKey::from(key.as_str()), to_val(values, value));
            }
        }
        Some(node) if !node.type_.is_empty() => {
            for (name, value) in fields {
                if value.is_null() || (node.resource && is_resource_field(name)) {
                    continue;
                }
                let Some(child) = node.properties.get(name).filter(|child| child.visible()) else {
                    continue;
                };
                if let Some(escaped) = escape(name) {
                    map.insert(CelMapKey::from(escaped), to_val(Some(child), value));
                }
            }
            if node.resource {
                resource_fields(fields, &mut map);
            }
        }
        _ => {
            for (key, value) in fields {
                map.insert(CelMapKey::from(key.as_str()), to_val(None, value));
            }
        }
    }
    boxed(CelMap::from(map))
}

fn is_resource_field(name: &str) -> bool {
    matches!(name, "apiVersion" | "kind" | "metadata")
}

/// What upstream shows of a resource's type and object meta: `apiVersion`, `kind`, and
/// `metadata.name` and `metadata.generateName`.
fn resource_fields<'v>(
    fields: &'v Map<String, Value>,
    map: &mut HashMap<CelMapKey<'v>, Box<dyn Val + 'v>>,
) {
    for key in ["apiVersion", "kind"] {
        if let Some(Value::String(s)) = fields.get(key) {
            map.insert(CelMapKey::from(key), boxed(CelString::from(s.as_str())));
        }
    }
    if let Some(Value::Object(metadata)) = fields.get("metadata") {
        let mut meta: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = HashMap::new();
        for key in ["name", "generateName"] {
            if let Some(Value::String(s)) = metadata.get(key) {
                meta.insert(CelMapKey::from(key), boxed(CelString::from(s.as_str())));
            }
        }
        map.insert(CelMapKey::from("metadata"), boxed(CelMap::from(meta)));
    }
}

/// A property name as upstream exposes it to CEL: reserved words as `__word__`, and `__`, `.`,
/// `-` and `/` spelled out; `None` for names CEL cannot spell, which upstream leaves out.
fn escape(name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str("__underscores__");
            }
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// Upstream's validation ratcheting: on update, a failure of a rule that does not name `oldSelf`
/// is not an error when the value is unchanged. `current` is whether the node's value equals the
/// old value it is matched with (`None` when it has none), `parent` the same for the nearest
/// ancestor that had one (`None` at the root). On create both are `None`: nothing is ratcheted.
#[derive(Clone, Copy, Debug)]
struct Ratchet {
    current: Option<bool>,
    parent: Option<bool>,
}

impl Ratchet {
    const OFF: Ratchet = Ratchet {
        current: None,
        parent: None,
    };

    fn root(unchanged: bool) -> Self {
        Ratchet {
            current: Some(unchanged),
            parent: None,
        }
    }

    /// Into the field `name`; `unchanged` is `None` when the old object has no such field.
    fn field(self, name: &str, unchanged: Option<bool>) -> Self {
        match self.current {
            None => self,
            // The type meta of both versions reads the same after conversion, so nothing
            // under it is ratcheted.
            Some(_) if self.parent.is_none() && matches!(name, "apiVersion" | "kind") => Self::OFF,
            Some(this) => Ratchet {
                current: unchanged,
                parent: Some(this),
            },
        }
    }

    /// Into a list element; `unchanged` is `None` when no old element is matched with it.
    fn item(self, unchanged: Option<bool>) -> Self {
        self.field("", unchanged)
    }

    /// Whether a failure here is ratcheted away; rules of `allOf` entries go by the parent.
    fn unchanged(self, from_all_of: bool) -> bool {
        let judged = if from_all_of {
            self.parent
        } else {
            self.current.or(self.parent)
        };
        judged == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn compile(schema: Value) -> Result<Rules, ErrorList> {
        let schema: JSONSchemaProps = serde_json::from_value(schema).expect("a schema");
        Rules::compile(&schema, &Path::new("openAPIV3Schema"))
    }

    fn rules(schema: Value) -> Rules {
        compile(schema).expect("the rules compile")
    }

    /// A custom resource schema whose `spec` has these properties and rules.
    fn spec_schema(properties: Value, rules: Value) -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": properties, "x-kubernetes-validations": rules}
            }
        })
    }

    fn messages(errors: ErrorList) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn no_errors() -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn a_failing_rule_reports_its_message_at_its_node() {
        let rules = rules(spec_schema(
            json!({"replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}}),
            json!([{"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"}]),
        ));
        assert!(!rules.is_empty());
        let fine = json!({"spec": {"replicas": 2, "maxReplicas": 3}});
        assert_eq!(messages(rules.validate(&fine, None)), no_errors());
        let bad = json!({"spec": {"replicas": 5, "maxReplicas": 3}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            ["spec: Invalid value: \"object\": replicas must not exceed maxReplicas"]
        );
    }

    #[test]
    fn a_rule_without_message_reports_the_rule() {
        let rules = rules(spec_schema(
            json!({"name": {"type": "string"}}),
            json!([{"rule": "self.name.startsWith('web-')"}]),
        ));
        let bad = json!({"spec": {"name": "db"}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            ["spec: Invalid value: \"object\": failed rule: self.name.startsWith('web-')"]
        );
    }

    #[test]
    fn a_message_expression_words_the_failure_and_falls_back_when_it_fails() {
        let rules = rules(spec_schema(
            json!({"replicas": {"type": "integer"}}),
            json!([
                {"rule": "self.replicas % 2 == 1", "messageExpression": "'replicas must be odd, got ' + string(self.replicas)"},
                {"rule": "self.replicas < 3", "message": "too many", "messageExpression": "self.missing"}
            ]),
        ));
        let bad = json!({"spec": {"replicas": 4}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            [
                "spec: Invalid value: \"object\": replicas must be odd, got 4",
                "spec: Invalid value: \"object\": too many",
            ]
        );
    }

    #[test]
    fn macros_and_string_functions_apply_to_lists_and_strings() {
        let rules = rules(spec_schema(
            json!({"hosts": {"type": "array", "items": {"type": "string"}}, "name": {"type": "string"}}),
            json!([
                {"rule": "self.hosts.all(h, h.matches('^[a-z.]+$'))", "message": "hosts must be lower case"},
                {"rule": "self.hosts.exists(h, h.endsWith('.com'))", "message": "one host must be a .com"},
                {"rule": "size(self.hosts) <= 2", "message": "at most two hosts"},
                {"rule": "self.name.lowerAscii() == self.name", "message": "name must be lower case"}
            ]),
        ));
        let object = json!({"spec": {"hosts": ["a.com", "B.org", "c.net"], "name": "Web"}});
        assert_eq!(
            messages(rules.validate(&object, None)),
            [
                "spec: Invalid value: \"object\": hosts must be lower case",
                "spec: Invalid value: \"object\": at most two hosts",
                "spec: Invalid value: \"object\": name must be lower case",
            ]
        );
    }

    #[test]
    fn durations_and_timestamps_parse_and_compare() {
        let rules = rules(spec_schema(
            json!({"request": {"type": "string"}, "backend": {"type": "string"}, "at": {"type": "string"}}),
            json!([
                {"rule": "duration(self.backend) <= duration(self.request)", "message": "backend timeout cannot be longer"},
                {"rule": "duration(self.request).getSeconds() >= 1", "message": "at least a second"},
                {"rule": "timestamp(self.at) > timestamp('2020-01-01T00:00:00Z')", "message": "after 2020"}
            ]),
        ));
        let good =
            json!({"spec": {"request": "10s", "backend": "2s", "at": "2026-12-01T00:00:00Z"}});
        assert!(rules.validate(&good, None).is_empty());
        let bad =
            json!({"spec": {"request": "500ms", "backend": "2s", "at": "2019-01-01T00:00:00Z"}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            [
                "spec: Invalid value: \"object\": backend timeout cannot be longer",
                "spec: Invalid value: \"object\": at least a second",
                "spec: Invalid value: \"object\": after 2020",
            ]
        );
    }

    #[test]
    fn rules_call_kubernetes_libraries() {
        let hostnames = json!({
            "type": "array",
            "items": {"type": "string"},
            "x-kubernetes-validations": [
                {"rule": "self.all(h, !isIP(h))", "message": "Hostnames cannot be IP addresses"}
            ]
        });
        let rules = rules(spec_schema(json!({"hostnames": hostnames}), json!([])));
        let fine = json!({"spec": {"hostnames": ["example.com"]}});
        assert_eq!(messages(rules.validate(&fine, None)), no_errors());
        let bad = json!({"spec": {"hostnames": ["10.0.0.1"]}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            ["spec.hostnames: Invalid value: \"array\": Hostnames cannot be IP addresses"]
        );
    }

    #[test]
    fn a_transition_rule_runs_on_update_only_where_an_old_value_exists() {
        let rules = rules(spec_schema(
            json!({
                "mode": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "mode is immutable"}]},
                "replicas": {"type": "integer"}
            }),
            json!([]),
        ));
        let stored = json!({"spec": {"mode": "fast", "replicas": 1}});
        assert_eq!(messages(rules.validate(&stored, None)), no_errors());

        let scaled = json!({"spec": {"mode": "fast", "replicas": 2}});
        assert_eq!(
            messages(rules.validate(&scaled, Some(&stored))),
            no_errors()
        );

        let switched = json!({"spec": {"mode": "slow", "replicas": 1}});
        assert_eq!(
            messages(rules.validate(&switched, Some(&stored))),
            ["spec.mode: Invalid value: \"string\": mode is immutable"]
        );

        let without_mode = json!({"spec": {"replicas": 1}});
        assert_eq!(
            messages(rules.validate(&switched, Some(&without_mode))),
            no_errors()
        );
    }

    #[test]
    fn rules_on_list_items_run_on_every_element_with_field_path_and_reason() {
        let rules = rules(spec_schema(
            json!({"ports": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"port": {"type": "integer"}, "name": {"type": "string"}},
                    "x-kubernetes-validations": [
                        {"rule": "self.port > 0", "message": "must be positive", "fieldPath": ".port"},
                        {"rule": "has(self.name)", "message": "a port needs a name", "fieldPath": "['name']", "reason": "FieldValueRequired"}
                    ]
                }
            }}),
            json!([]),
        ));
        let object = json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 0}]}});
        assert_eq!(
            messages(rules.validate(&object, None)),
            [
                "spec.ports[1].port: Invalid value: \"object\": must be positive",
                "spec.ports[1].name: Required value: a port needs a name",
            ]
        );
    }

    #[test]
    fn map_list_elements_are_matched_with_old_ones_by_their_keys() {
        let rules = rules(spec_schema(
            json!({"ports": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    "x-kubernetes-validations": [{"rule": "self.port == oldSelf.port", "message": "port is immutable"}]
                }
            }}),
            json!([]),
        ));
        let old = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
        let new = json!({"spec": {"ports": [
            {"name": "b", "port": 3}, {"name": "a", "port": 1}, {"name": "c", "port": 5}
        ]}});
        assert_eq!(
            messages(rules.validate(&new, Some(&old))),
            ["spec.ports[0]: Invalid value: \"object\": port is immutable"]
        );
    }

    #[test]
    fn root_rules_see_the_name_and_report_at_the_nil_path() {
        let rules = rules(json!({
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.metadata.name.size() <= 5", "message": "name is too long"},
                {"rule": "has(self.metadata.namespace)", "message": "namespace is visible"},
                {"rule": "self.kind == 'Widget'"}
            ],
            "properties": {"spec": {"type": "object"}}
        }));
        let object = json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "too-long-name", "namespace": "default"},
            "spec": {}
        });
        assert_eq!(
            messages(rules.validate(&object, None)),
            [
                "<nil>: Invalid value: \"object\": name is too long",
                "<nil>: Invalid value: \"object\": namespace is visible",
            ]
        );
    }

    #[test]
    fn int_or_string_values_keep_their_json_type() {
        let rules = rules(spec_schema(
            json!({"port": {
                "x-kubernetes-int-or-string": true,
                "x-kubernetes-validations": [{"rule": "self == 80 || self == 'http'"}]
            }}),
            json!([]),
        ));
        for fine in [
            json!({"spec": {"port": 80}}),
            json!({"spec": {"port": "http"}}),
        ] {
            assert_eq!(messages(rules.validate(&fine, None)), no_errors());
        }
        let bad = json!({"spec": {"port": 81}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            ["spec.port: Invalid value: \"\": failed rule: self == 80 || self == 'http'"]
        );
    }

    #[test]
    fn property_names_are_escaped_as_upstream_escapes_them() {
        let rules = rules(spec_schema(
            json!({"namespace": {"type": "string"}, "max-size": {"type": "integer"}}),
            json!([{"rule": "self.__namespace__ != 'kube-system' && self.max__dash__size <= 10"}]),
        ));
        let bad = json!({"spec": {"namespace": "kube-system", "max-size": 1}});
        assert_eq!(
            messages(rules.validate(&bad, None)),
            [
                "spec: Invalid value: \"object\": failed rule: self.__namespace__ != 'kube-system' && self.max__dash__size <= 10"
            ]
        );
    }

    #[test]
    fn evaluation_errors_name_the_rule() {
        let rules = rules(spec_schema(
            json!({"replicas": {"type": "integer"}}),
            json!([{"rule": "self.replicas > 1"}]),
        ));
        let object = json!({"spec": {}});
        assert_eq!(
            messages(rules.validate(&object, None)),
            [
                "spec: Invalid value: \"object\": no such key: replicas evaluating rule: self.replicas > 1"
            ]
        );
    }

    #[test]
    fn unchanged_values_are_ratcheted_on_update() {
        let rules = rules(spec_schema(
            json!({
                "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self.startsWith('web-')"}]},
                "replicas": {"type": "integer"}
            }),
            json!([]),
        ));
        let stored = json!({"spec": {"name": "db", "replicas": 1}});
        let scaled = json!({"spec": {"name": "db", "replicas": 2}});
        assert_eq!(
            messages(rules.validate(&scaled, Some(&stored))),
            no_errors()
        );
        let renamed = json!({"spec": {"name": "dc", "replicas": 1}});
        let expected =
            ["spec.name: Invalid value: \"string\": failed rule: self.startsWith('web-')"];
        assert_eq!(messages(rules.validate(&renamed, Some(&stored))), expected);
        assert_eq!(
            messages(rules.validate(&stored, None)),
            ["spec.name: Invalid value: \"string\": failed rule: self.startsWith('web-')"]
        );
    }

    #[test]
    fn rules_that_fail_to_compile_are_reported_like_upstream() {
        let errors = compile(spec_schema(
            json!({"replicas": {"type": "integer"}}),
            json!([
                {"rule": "has(self)"},
                {"rule": "self.replicas > minReplicas", "message": "too few"}
            ]),
        ))
        .expect_err("the rules do not compile");
        assert_eq!(
            messages(errors),
            [
                "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: \
                 apiextensions.ValidationRule{Rule:\"has(self)\", Message:\"\", MessageExpression:\"\", \
                 Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: \
                 compilation failed: ERROR: <input>:1:5: invalid argument to has() macro\n | has(self)\n | ....^",
                "openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule: Invalid value: \
                 apiextensions.ValidationRule{Rule:\"self.replicas > minReplicas\", Message:\"too few\", MessageExpression:\"\", \
                 Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: \
                 compilation failed: ERROR: <input>:1:17: undeclared reference to 'minReplicas' (in container '')\n \
                 | self.replicas > minReplicas\n | ................^",
            ]
        );
    }

    #[test]
    fn old_self_is_refused_inside_lists_whose_elements_cannot_be_matched() {
        let errors = compile(spec_schema(
            json!({"ports": {"type": "array", "items": {
                "type": "integer",
                "x-kubernetes-validations": [{"rule": "self == oldSelf"}]
            }}}),
            json!([]),
        ))
        .expect_err("oldSelf has no old element to read");
        assert_eq!(
            messages(errors),
            [
                "openAPIV3Schema.properties[spec].properties[ports].items.x-kubernetes-validations[0].rule: \
              Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion \
              of the schema within openAPIV3Schema.properties[spec].properties[ports]"
            ]
        );
    }

    #[test]
    fn malformed_rule_fields_are_reported_before_compiling() {
        let errors = compile(spec_schema(
            json!({"replicas": {"type": "integer"}}),
            json!([{"rule": "self.replicas > minReplicas", "fieldPath": ".nothing", "reason": "Because"}]),
        ))
        .expect_err("the rule's fields are invalid");
        assert_eq!(
            messages(errors),
            [
                "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].reason: Unsupported value: \"Because\": \
                 supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"",
                "openAPIV3Schema.properties[spec].x-kubernetes-validations[0].fieldPath: Invalid value: \".nothing\": \
                 fieldPath must be a valid path",
            ]
        );
    }

    #[test]
    fn a_schema_without_rules_is_empty() {
        let rules = rules(spec_schema(
            json!({"replicas": {"type": "integer"}}),
            json!([]),
        ));
        assert!(rules.is_empty());
        assert_eq!(
            messages(rules.validate(&json!({"spec": {"replicas": 1}}), None)),
            no_errors()
        );
    }

    #[test]
    fn untyped_expressions_evaluate_to_json() {
        let object = json!({"data": {"a": "1", "b": "2"}});
        let variables = [("object", &object)];
        assert_eq!(evaluate("object.data.size()", &variables), Ok(json!(2)));
        assert_eq!(
            evaluate("{'n': [object.data.a, null, 1.5, true]}", &variables),
            Ok(json!({"n": ["1", null, 1.5, true]}))
        );
        assert_eq!(holds("object.data.size() == 2", &variables), Ok(true));
        assert_eq!(
            holds("object.data.size()", &variables),
            Err("expected a boolean, got 2".to_owned())
        );
        assert!(evaluate("object.missing.x", &variables).is_err());
    }

    #[test]
    fn admission_expressions_may_name_only_their_variables() {
        assert_eq!(check("object.data.size() <= 2", &["object"]), Ok(()));
        let undeclared = check("object.data.size() <= params.max", &["object"]).unwrap_err();
        assert!(
            undeclared.contains("undeclared reference to 'params' (in container '')"),
            "{undeclared}"
        );
        let unparsed = check("object.data.size() <=", &["object"]).unwrap_err();
        assert!(unparsed.starts_with("ERROR: <input>:1:"), "{unparsed}");
    }

    #[test]
    fn variable_names_are_identifiers_but_not_reserved_words() {
        assert!(is_identifier("replicas") && is_identifier("_max2"));
        assert!(!is_identifier("2max") && !is_identifier("max-size") && !is_identifier(""));
        assert!(!is_identifier("namespace"));
    }

    #[test]
    fn evaluated_messages_are_trimmed_single_lines() {
        assert_eq!(usable_message("  too big  "), Some("too big".to_owned()));
        assert_eq!(usable_message(" "), None);
        assert_eq!(usable_message("two\nlines"), None);
        assert_eq!(usable_message(&"x".repeat(MAX_MESSAGE_BYTES + 1)), None);
    }

    #[test]
    fn rules_can_be_shared_between_requests() {
        fn shared<T: Send + Sync>() {}
        shared::<Rules>();
    }
}
