//! kubectl-style JSONPath templates (`{.status.conditions[?(@.type=="Ready")].status}`), parsed
//! and evaluated as client-go's `util/jsonpath` does, because a CRD's printer columns are written
//! for kube-apiserver and must find the same values here: the same syntax accepted and rejected
//! (parse errors in client-go's words), the same results, the same failures.
//!
//! What is followed: text between actions; fields `.a.b` with `\.` escaping a dot; `..`
//! recursive descent; `[n]`, negative indexes, slices `[a:b:step]` and `[*]`; unions `[0,2]`;
//! keys `['a\.b']` (single quotes only, and dots still escaped: client-go re-reads the key as a
//! field); filters `[?(@.x)]` and `[?(@.x OP y)]` with ==, !=, <, >, <=, >= on strings, integers
//! and floats (an integer never compares with a float, as in Go templates); quoted, numeric and
//! boolean literals. Missing keys give nothing rather than an error (`AllowMissingKeys(true)`).
//!
//! What is not: `range`/`end` loops; evaluating them fails.

use serde_json::Value;

/// A parsed template: text and `{}` actions, in order.
#[derive(Debug, Clone)]
pub(crate) struct JsonPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
enum Segment {
    Text(String),
    Action(Vec<Node>),
}

/// One step of an action; each takes the values found so far and gives the next ones.
#[derive(Debug, Clone)]
enum Node {
    /// A quoted literal: one value whatever the input.
    Text(String),
    Field(String),
    Array([Param; 3]),
    Filter(Filter),
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
    Identifier(String),
}

/// One bound of `[from:to:step]`. `derived` marks the `to` of a plain index `[n]` (n + 1), which
/// for `[-1]` wraps to the length rather than to the start.
#[derive(Debug, Clone, Copy, Default)]
struct Param {
    value: i64,
    known: bool,
    derived: bool,
}

impl Param {
    fn known(value: i64) -> Self {
        Self {
            value,
            known: true,
            derived: false,
        }
    }
}

#[derive(Debug, Clone)]
struct Filter {
    left: Vec<Node>,
    right: Vec<Node>,
    /// `None` for an existence test `[?(@.x)]`.
    operator: Option<String>,
}

/// A value a template found: one of the object's, or one the template wrote itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Found<'a> {
    Json(&'a Value),
    /// A quoted literal, or the text between actions.
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// One byte of a string that `.*` or `..` took apart, as Go indexes strings.
    Byte(u8),
}

impl JsonPath {
    /// Parses a whole template; a printer column's path is wrapped in `{}` first. The errors are
    /// client-go's: "unterminated array", "unclosed action", "invalid array index x", ...
    pub(crate) fn parse(template: &str) -> Result<Self, String> {
        Parser::new(template)
            .template()
            .map(|segments| Self { segments })
    }

    /// The values each segment finds in `data`, segment by segment. Err when evaluation fails as
    /// it fails upstream: an index out of range, a filter over something not a list, values that
    /// cannot be compared.
    pub(crate) fn find<'a>(&'a self, data: &'a Value) -> Result<Vec<Vec<Found<'a>>>, String> {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Text(text) => Ok(vec![Found::Text(text)]),
                Segment::Action(nodes) => {
                    eval_list(nodes, vec![Found::Json(data)]).map_err(|failure| failure.message)
                }
            })
            .collect()
    }
}

impl Found<'_> {
    /// The text upstream prints for one value taken out of its results: strings as they are,
    /// lists and maps as Go's encoding/json writes them, numbers as Go's `%v`, and a JSON null
    /// as `<no value>` (it reaches the printer as Go's nil interface).
    pub(crate) fn to_text(self) -> String {
        match self {
            Found::Json(Value::Null) => "<no value>".to_owned(),
            Found::Json(Value::String(text)) => text.clone(),
            Found::Json(Value::Bool(b)) => b.to_string(),
            Found::Json(Value::Number(n)) => n.as_i64().map_or_else(
                || go_float(n.as_f64().unwrap_or_default()),
                |i| i.to_string(),
            ),
            Found::Json(value) => {
                let mut out = String::new();
                go_json(value, &mut out);
                out
            }
            Found::Text(text) => text.to_owned(),
            Found::Int(i) => i.to_string(),
            Found::Float(f) => go_float(f),
            Found::Bool(b) => b.to_string(),
            Found::Byte(b) => b.to_string(),
        }
    }

    /// Go's name for the value's type, for error messages.
    fn go_type(self) -> &'static str {
        match self {
            Found::Json(Value::Null) => "<nil>",
            Found::Json(Value::Bool(_)) | Found::Bool(_) => "bool",
            Found::Json(Value::Number(n)) if n.is_i64() => "int64",
            Found::Json(Value::Number(_)) | Found::Float(_) => "float64",
            Found::Json(Value::String(_)) | Found::Text(_) => "string",
            Found::Json(Value::Array(_)) => "[]interface {}",
            Found::Json(Value::Object(_)) => "map[string]interface {}",
            Found::Int(_) => "int",
            Found::Byte(_) => "uint8",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing, after client-go's parser.go: a cursor over the characters, `start` marking the text
// not yet consumed.

struct Parser {
    chars: Vec<char>,
    pos: usize,
    start: usize,
    /// How far the last `next` moved (0 at the end), so `backup` can undo it.
    width: usize,
}

impl Parser {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
            start: 0,
            width: 0,
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.width = usize::from(c.is_some());
        self.pos += self.width;
        c
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The character before the one just read, to tell an escaped quote.
    fn before_last(&self) -> Option<char> {
        self.pos
            .checked_sub(2)
            .and_then(|i| self.chars.get(i).copied())
    }

    fn starts_with(&self, prefix: &str) -> bool {
        prefix
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn consume(&mut self) -> String {
        let text = self.chars[self.start..self.pos].iter().collect();
        self.start = self.pos;
        text
    }

    /// Text and actions to the end of the input.
    fn template(mut self) -> Result<Vec<Segment>, String> {
        let mut segments = Vec::new();
        loop {
            while !self.starts_with("{") && self.next().is_some() {}
            if self.pos > self.start {
                segments.push(Segment::Text(self.consume()));
            }
            if !self.starts_with("{") {
                return Ok(segments);
            }
            self.pos += 1;
            self.consume();
            segments.push(Segment::Action(self.action()?));
        }
    }

    /// The nodes of one action, through its closing `}`.
    fn action(&mut self) -> Result<Vec<Node>, String> {
        let mut nodes = Vec::new();
        loop {
            if self.starts_with("}") {
                self.pos += 1;
                self.consume();
                return Ok(nodes);
            }
            if self.starts_with("[?(") {
                self.filter(&mut nodes)?;
                continue;
            }
            if self.starts_with("..") {
                self.recursive(&mut nodes)?;
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err("unclosed action".to_owned()),
                Some(' ' | '@' | '$') => {
                    self.consume();
                }
                Some('[') => self.array(&mut nodes)?,
                Some(quote @ ('"' | '\'')) => self.quote(&mut nodes, quote)?,
                Some('.') => self.field(&mut nodes),
                Some(c) if c == '+' || c == '-' || c.is_numeric() => {
                    self.backup();
                    self.number(&mut nodes)?;
                }
                Some(c) if is_alphanumeric(c) => {
                    self.backup();
                    self.identifier(&mut nodes);
                }
                Some(c) => {
                    return Err(format!(
                        "unrecognized character in action: {}",
                        go_unicode(c)
                    ));
                }
            }
        }
    }

    fn identifier(&mut self, nodes: &mut Vec<Node>) {
        while !is_terminator(self.next()) {}
        self.backup();
        let value = self.consume();
        nodes.push(match value.as_str() {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            _ => Node::Identifier(value),
        });
    }

    fn recursive(&mut self, nodes: &mut Vec<Node>) -> Result<(), String> {
        if matches!(nodes.last(), Some(Node::Recursive)) {
            return Err("invalid multiple recursive descent".to_owned());
        }
        self.pos += 2;
        self.consume();
        nodes.push(Node::Recursive);
        if self.peek().is_some_and(is_alphanumeric) {
            self.field(nodes);
        }
        Ok(())
    }

    fn number(&mut self, nodes: &mut Vec<Node>) -> Result<(), String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        while self.next().is_some_and(|c| c == '.' || c.is_numeric()) {}
        self.backup();
        let value = self.consume();
        if let Ok(n) = value.parse::<i64>() {
            nodes.push(Node::Int(n));
        } else if let Ok(f) = value.parse::<f64>() {
            nodes.push(Node::Float(f));
        } else {
            return Err(format!("cannot parse number {value}"));
        }
        Ok(())
    }

    /// `[...]`: a union, a quoted key or an index/slice.
    fn array(&mut self, nodes: &mut Vec<Node>) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".to_owned()),
                Some(']') => break,
                Some(_) => {}
            }
        }
        let text = self.consume();
        let inner = &text[1..text.len() - 1];
        let inner = if inner == "*" { ":" } else { inner };

        let parts: Vec<&str> = inner.split(',').collect();
        if parts.len() > 1 {
            let branches = parts
                .iter()
                .map(|part| parse_action(&format!("[{}]", part.trim_matches(' '))))
                .collect::<Result<_, _>>()?;
            nodes.push(Node::Union(branches));
            return Ok(());
        }
        if let Some(key) = quoted_key(inner) {
            nodes.extend(parse_action(&format!(".{key}"))?);
            return Ok(());
        }
        nodes.push(Node::Array(slice_params(inner)?));
        Ok(())
    }

    /// `[?(left OP right)]` or `[?(left)]`; the condition ends at the first `)` outside quotes.
    fn filter(&mut self, nodes: &mut Vec<Node>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end, mut pair) = (false, false, '"');
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated filter".to_owned()),
                Some(quote @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = quote;
                    } else if quote == pair && self.before_last() != Some('\\') {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                Some(_) => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".to_owned());
        }
        let text: Vec<char> = self.consume().chars().collect();
        let condition = &text[..text.len() - 2];
        let filter = match split_comparison(condition) {
            None => Filter {
                left: parse_action(&condition.iter().collect::<String>())?,
                right: Vec::new(),
                operator: None,
            },
            Some((left, operator, right)) => Filter {
                left: parse_action(&left)?,
                right: parse_action(&right)?,
                operator: Some(operator),
            },
        };
        nodes.push(Node::Filter(filter));
        Ok(())
    }

    fn quote(&mut self, nodes: &mut Vec<Node>, end: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".to_owned()),
                Some(c) if c == end && self.before_last() != Some('\\') => break,
                Some(_) => {}
            }
        }
        let value = self.consume();
        let text = unquote(&value).map_err(|e| format!("unquote string {value} error {e}"))?;
        nodes.push(Node::Text(text));
        Ok(())
    }

    /// `.name`, to the next unescaped terminator; backslashes are dropped from the name.
    fn field(&mut self, nodes: &mut Vec<Node>) {
        self.consume();
        while self.advance() {}
        let value = self.consume();
        nodes.push(if value == "*" {
            Node::Wildcard
        } else {
            Node::Field(value.replace('\\', ""))
        });
    }

    fn advance(&mut self) -> bool {
        let c = self.next();
        if c == Some('\\') {
            self.next();
            true
        } else if is_terminator(c) {
            self.backup();
            false
        } else {
            true
        }
    }
}

/// The nodes of `{text}`, as client-go re-parses union members, keys and filter sides.
fn parse_action(text: &str) -> Result<Vec<Node>, String> {
    let segments = Parser::new(&format!("{{{text}}}")).template()?;
    Ok(match segments.into_iter().next() {
        Some(Segment::Action(nodes)) => nodes,
        _ => Vec::new(),
    })
}

/// `'key'`: single quotes around anything but a single quote.
fn quoted_key(text: &str) -> Option<&str> {
    let key = text.strip_prefix('\'')?.strip_suffix('\'')?;
    (!key.contains('\'')).then_some(key)
}

/// `from:to:step`, each part optional and `-?[0-9]*`; a plain `n` means `n:n+1`.
fn slice_params(text: &str) -> Result<[Param; 3], String> {
    let parts: Vec<&str> = text.split(':').collect();
    let well_formed = parts.len() <= 3
        && parts.iter().all(|part| {
            let digits = part.strip_prefix('-').unwrap_or(part);
            digits.chars().all(|c| c.is_ascii_digit())
        });
    if !well_formed {
        return Err(format!("invalid array index {text}"));
    }
    let number = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("array index {s} is not a number"))
    };
    let mut params = [Param::default(); 3];
    if !parts[0].is_empty() {
        params[0] = Param::known(number(parts[0])?);
    }
    params[1] = match parts.get(1) {
        None => Param {
            value: params[0].value.wrapping_add(1),
            known: true,
            derived: true,
        },
        Some(&"") => Param::default(),
        Some(&part) => Param::known(number(part)?),
    };
    params[2] = match parts.get(2) {
        None | Some(&"") => Param::default(),
        Some(&part) => Param::known(number(part)?),
    };
    Ok(params)
}

/// Splits `left OP right` as client-go's `^([^!<>=]+)([!<>=]+)(.+?)$` does; `None` makes the
/// filter an existence test.
fn split_comparison(text: &[char]) -> Option<(String, String, String)> {
    let is_operator = |c: &char| matches!(c, '!' | '<' | '>' | '=');
    let op_start = text.iter().position(is_operator).filter(|&i| i > 0)?;
    let mut op_end = op_start
        + text[op_start..]
            .iter()
            .take_while(|c| is_operator(c))
            .count();
    if op_end == text.len() {
        // The right side needs at least one character, even one taken back from the operator.
        if op_end - op_start < 2 {
            return None;
        }
        op_end -= 1;
    }
    let collect = |part: &[char]| part.iter().collect::<String>();
    Some((
        collect(&text[..op_start]),
        collect(&text[op_start..op_end]),
        collect(&text[op_end..]),
    ))
}

/// Go's `strconv.Unquote`, accepting single-quoted strings too (client-go's `UnquoteExtend`).
fn unquote(quoted: &str) -> Result<String, &'static str> {
    const SYNTAX: &str = "invalid syntax";
    let quote = match quoted.chars().next() {
        Some(q @ ('"' | '\'')) if quoted.len() >= 2 && quoted.ends_with(q) => q,
        _ => return Err(SYNTAX),
    };
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains('\\') && !inner.contains(quote) {
        return Ok(inner.to_owned());
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    let push =
        |out: &mut Vec<u8>, c: char| out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    while let Some(c) = chars.next() {
        if c == quote {
            return Err(SYNTAX);
        }
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        match chars.next().ok_or(SYNTAX)? {
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(0x0b),
            '\\' => out.push(b'\\'),
            q @ ('\'' | '"') if q == quote => push(&mut out, q),
            kind @ ('x' | 'u' | 'U') => {
                let digits = match kind {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut value = 0u32;
                for _ in 0..digits {
                    let digit = chars.next().and_then(|c| c.to_digit(16)).ok_or(SYNTAX)?;
                    value = (value << 4) | digit;
                }
                if kind == 'x' {
                    out.push(u8::try_from(value).map_err(|_| SYNTAX)?);
                } else {
                    push(&mut out, char::from_u32(value).ok_or(SYNTAX)?);
                }
            }
            first @ '0'..='7' => {
                let mut value = first.to_digit(8).ok_or(SYNTAX)?;
                for _ in 0..2 {
                    let digit = chars.next().and_then(|c| c.to_digit(8)).ok_or(SYNTAX)?;
                    value = value * 8 + digit;
                }
                out.push(u8::try_from(value).map_err(|_| SYNTAX)?);
            }
            _ => return Err(SYNTAX),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Characters that end a field name or an identifier.
fn is_terminator(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
    )
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`: `U+0023 '#'`, without the quoted character when it is not printable.
fn go_unicode(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("U+{:04X} '{c}'", u32::from(c))
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation, after client-go's jsonpath.go.

/// A failed step. Like client-go, it still hands back some values (usually its input), which an
/// existence filter counts.
struct Failure<'a> {
    message: String,
    partial: Vec<Found<'a>>,
}

impl<'a> Failure<'a> {
    fn new(message: impl Into<String>, partial: Vec<Found<'a>>) -> Self {
        Self {
            message: message.into(),
            partial,
        }
    }
}

type Eval<'a> = Result<Vec<Found<'a>>, Failure<'a>>;

fn eval_list<'a>(nodes: &'a [Node], input: Vec<Found<'a>>) -> Eval<'a> {
    nodes
        .iter()
        .try_fold(input, |current, node| eval(node, current))
}

fn eval<'a>(node: &'a Node, input: Vec<Found<'a>>) -> Eval<'a> {
    match node {
        Node::Text(text) => Ok(vec![Found::Text(text)]),
        Node::Field(name) => Ok(input.into_iter().filter_map(|v| field(v, name)).collect()),
        Node::Array(params) => array(input, params),
        Node::Filter(filter) => eval_filter(input, filter),
        Node::Int(n) => Ok(vec![Found::Int(*n); input.len()]),
        Node::Float(f) => Ok(vec![Found::Float(*f); input.len()]),
        Node::Bool(b) => Ok(vec![Found::Bool(*b); input.len()]),
        Node::Wildcard => Ok(input.into_iter().flat_map(children).collect()),
        Node::Recursive => Ok(recursive(input)),
        Node::Union(branches) => union(input, branches),
        Node::Identifier(name) => {
            let message = match name.as_str() {
                "range" | "end" => format!("{name} is not supported"),
                _ => format!("unrecognized identifier {name}"),
            };
            Err(Failure::new(message, input))
        }
    }
}

fn field<'a>(value: Found<'a>, name: &str) -> Option<Found<'a>> {
    match value {
        Found::Json(Value::Object(map)) => map.get(name).map(Found::Json),
        _ => None,
    }
}

/// What `.*` yields: a map's values, a list's items, a string's bytes.
fn children(value: Found<'_>) -> Vec<Found<'_>> {
    match value {
        Found::Json(Value::Object(map)) => map.values().map(Found::Json).collect(),
        Found::Json(Value::Array(items)) => items.iter().map(Found::Json).collect(),
        Found::Json(Value::String(text)) => text.bytes().map(Found::Byte).collect(),
        Found::Text(text) => text.bytes().map(Found::Byte).collect(),
        _ => Vec::new(),
    }
}

/// Every value with children, itself before its descendants.
fn recursive(input: Vec<Found<'_>>) -> Vec<Found<'_>> {
    let mut result = Vec::new();
    for value in input {
        let inner = children(value);
        if !inner.is_empty() {
            result.push(value);
            result.extend(recursive(inner));
        }
    }
    result
}

fn union<'a>(input: Vec<Found<'a>>, branches: &'a [Vec<Node>]) -> Eval<'a> {
    let mut result = Vec::new();
    for branch in branches {
        match eval_list(branch, input.clone()) {
            Ok(found) => result.extend(found),
            Err(failure) => return Err(Failure::new(failure.message, input)),
        }
    }
    Ok(result)
}

fn array<'a>(input: Vec<Found<'a>>, params: &[Param; 3]) -> Eval<'a> {
    let mut result = Vec::new();
    for value in input.clone() {
        let items = match value {
            Found::Json(Value::Null) => continue,
            Found::Json(Value::Array(items)) => items,
            other => {
                let message = format!("{} is not array or slice", other.go_type());
                return Err(Failure::new(message, input));
            }
        };
        match bounds(params, items.len()) {
            Err(message) => return Err(Failure::new(message, input)),
            // An empty range ends the whole step, dropping the inputs still to come, as upstream.
            Ok(None) => return Ok(result),
            Ok(Some((from, to, step))) => {
                result.extend(items[from..to].iter().step_by(step).map(Found::Json));
            }
        }
    }
    Ok(result)
}

/// The range `[from, to)` and step a slice selects in a list of `len` items; `None` when it
/// selects nothing.
fn bounds(params: &[Param; 3], len: usize) -> Result<Option<(usize, usize, usize)>, String> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let [mut from, mut to, step] = *params;
    if !from.known {
        from.value = 0;
    }
    if from.value < 0 {
        from.value += len;
    }
    if !to.known {
        to.value = len;
    }
    if to.value < 0 || (to.value == 0 && to.derived) {
        to.value += len;
    }
    if to.value == from.value {
        return Ok(None);
    }
    if from.value >= len || from.value < 0 {
        return Err(format!(
            "array index out of bounds: index {}, length {len}",
            from.value
        ));
    }
    if to.value > len || to.value < 0 {
        return Err(format!(
            "array index out of bounds: index {}, length {len}",
            to.value.wrapping_sub(1)
        ));
    }
    if from.value > to.value {
        return Err(format!(
            "starting index {} is greater than ending index {}",
            from.value, to.value
        ));
    }
    let step = if step.known {
        if step.value <= 0 {
            return Err("step must be > 0".to_owned());
        }
        step.value
    } else {
        1
    };
    let index = |i: i64| usize::try_from(i).unwrap_or(usize::MAX);
    Ok(Some((index(from.value), index(to.value), index(step))))
}

fn eval_filter<'a>(input: Vec<Found<'a>>, filter: &'a Filter) -> Eval<'a> {
    let mut results = Vec::new();
    for value in input.clone() {
        let Found::Json(Value::Array(items)) = value else {
            let message = format!(
                "{} is not array or slice and cannot be filtered",
                value.go_type()
            );
            return Err(Failure::new(message, input));
        };
        for item in items {
            let element = vec![Found::Json(item)];
            let lefts = eval_list(&filter.left, element.clone());
            let Some(operator) = &filter.operator else {
                let exists = match &lefts {
                    Ok(found) => !found.is_empty(),
                    Err(failure) => !failure.partial.is_empty(),
                };
                if exists {
                    results.push(Found::Json(item));
                }
                continue;
            };
            let Some(left) = operand(lefts, &input)? else {
                continue;
            };
            let Some(right) = operand(eval_list(&filter.right, element), &input)? else {
                continue;
            };
            match compare(operator, left, right) {
                Ok(true) => results.push(Found::Json(item)),
                Ok(false) => {}
                Err(message) => return Err(Failure::new(message, results)),
            }
        }
    }
    Ok(results)
}

/// The one value a side of a comparison gives; `None` (the item is skipped) when it gives none.
fn operand<'a>(side: Eval<'a>, input: &[Found<'a>]) -> Result<Option<Found<'a>>, Failure<'a>> {
    let values = side.map_err(|failure| Failure::new(failure.message, input.to_vec()))?;
    match values.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(Failure::new(
            "can only compare one element at a time",
            input.to_vec(),
        )),
    }
}

/// A value as Go templates compare it: by basic kind, never across kinds except signed and
/// unsigned integers.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

const INVALID_TYPE: &str = "invalid type for comparison";
const INCOMPATIBLE_TYPES: &str = "incompatible types for comparison";

fn scalar(value: Found<'_>) -> Result<Scalar<'_>, String> {
    Ok(match value {
        Found::Json(Value::Bool(b)) => Scalar::Bool(*b),
        Found::Json(Value::Number(n)) => match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Float(n.as_f64().unwrap_or_default()),
        },
        Found::Json(Value::String(text)) => Scalar::Str(text),
        Found::Json(Value::Null | Value::Array(_) | Value::Object(_)) => {
            return Err(INVALID_TYPE.to_owned());
        }
        Found::Text(text) => Scalar::Str(text),
        Found::Int(i) => Scalar::Int(i),
        Found::Float(f) => Scalar::Float(f),
        Found::Bool(b) => Scalar::Bool(b),
        Found::Byte(b) => Scalar::Uint(u64::from(b)),
    })
}

fn compare(operator: &str, left: Found<'_>, right: Found<'_>) -> Result<bool, String> {
    match operator {
        "==" => equal(left, right),
        "!=" => equal(left, right).map(|eq| !eq),
        "<" => less(left, right),
        "<=" => less_equal(left, right),
        ">" => less_equal(left, right).map(|le| !le),
        ">=" => less(left, right).map(|lt| !lt),
        _ => Err(format!("unrecognized filter operator {operator}")),
    }
}

fn equal(left: Found<'_>, right: Found<'_>) -> Result<bool, String> {
    Ok(match (scalar(left)?, scalar(right)?) {
        (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
        (Scalar::Int(a), Scalar::Int(b)) => a == b,
        (Scalar::Uint(a), Scalar::Uint(b)) => a == b,
        (Scalar::Float(a), Scalar::Float(b)) => a == b,
        (Scalar::Str(a), Scalar::Str(b)) => a == b,
        (Scalar::Int(a), Scalar::Uint(b)) => a >= 0 && a.unsigned_abs() == b,
        (Scalar::Uint(a), Scalar::Int(b)) => b >= 0 && a == b.unsigned_abs(),
        _ => return Err(INCOMPATIBLE_TYPES.to_owned()),
    })
}

fn less(left: Found<'_>, right: Found<'_>) -> Result<bool, String> {
    Ok(match (scalar(left)?, scalar(right)?) {
        (Scalar::Int(a), Scalar::Int(b)) => a < b,
        (Scalar::Uint(a), Scalar::Uint(b)) => a < b,
        (Scalar::Float(a), Scalar::Float(b)) => a < b,
        (Scalar::Str(a), Scalar::Str(b)) => a < b,
        (Scalar::Int(a), Scalar::Uint(b)) => a < 0 || a.unsigned_abs() < b,
        (Scalar::Uint(a), Scalar::Int(b)) => b >= 0 && a < b.unsigned_abs(),
        (Scalar::Bool(_), Scalar::Bool(_)) => return Err(INVALID_TYPE.to_owned()),
        _ => return Err(INCOMPATIBLE_TYPES.to_owned()),
    })
}

fn less_equal(left: Found<'_>, right: Found<'_>) -> Result<bool, String> {
    Ok(less(left, right)? || equal(left, right)?)
}

// ---------------------------------------------------------------------------------------------
// Go's spelling of numbers and JSON, for the text of string cells.

/// The shortest digits that give `x` back, and the power of ten of the first one.
fn shortest_digits(x: f64) -> (String, i32) {
    let text = format!("{:e}", x.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// `1.5e+06`: the digits with a point after the first, then the exponent.
fn exponent_form(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let sign = if exponent < 0 { '-' } else { '+' };
    if rest.is_empty() {
        format!("{first}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        format!("{first}.{rest}e{sign}{:02}", exponent.unsigned_abs())
    }
}

/// `1500000`, `0.0015`: the digits placed around the decimal point.
fn plain_form(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or_default());
        return format!("0.{zeros}{digits}");
    }
    let integer_digits = usize::try_from(exponent).unwrap_or_default() + 1;
    if digits.len() <= integer_digits {
        format!("{digits}{}", "0".repeat(integer_digits - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..integer_digits],
            &digits[integer_digits..]
        )
    }
}

/// Go's `%v` of a float64: shortest digits, in exponent form below 1e-4 and from 1e6 on.
fn go_float(x: f64) -> String {
    let (digits, exponent) = shortest_digits(x);
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        format!("{sign}{}", exponent_form(&digits, exponent))
    } else {
        format!("{sign}{}", plain_form(&digits, exponent))
    }
}

/// A float64 as Go's encoding/json writes it: plain from 1e-6 up to 1e21, `1e+21` and `1e-7`
/// beyond.
fn go_json_float(x: f64) -> String {
    let (digits, exponent) = shortest_digits(x);
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{point}{rest}e{exponent_sign}{}",
            exponent.unsigned_abs()
        )
    } else {
        format!("{sign}{}", plain_form(&digits, exponent))
    }
}

/// A value as Go's `json.Marshal` writes it: maps by sorted key, HTML characters escaped.
fn go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&go_json_float(n.as_f64().unwrap_or_default())),
        },
        Value::String(text) => go_json_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(key, out);
                out.push(':');
                go_json(item, out);
            }
            out.push('}');
        }
    }
}

fn go_json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Each segment's results as text.
    fn find(template: &str, data: &Value) -> Result<Vec<Vec<String>>, String> {
        let path = JsonPath::parse(template)?;
        let found = path.find(data)?;
        let texts = found
            .into_iter()
            .map(|results| results.into_iter().map(Found::to_text).collect())
            .collect();
        Ok(texts)
    }

    /// The results of a one-action template as text.
    fn values(template: &str, data: &Value) -> Vec<String> {
        let mut segments = find(template, data).expect("evaluates");
        assert_eq!(segments.len(), 1, "{template}");
        segments.remove(0)
    }

    fn parse_error(template: &str) -> String {
        JsonPath::parse(template).expect_err("does not parse")
    }

    fn widget() -> Value {
        json!({
            "metadata": {
                "name": "w1",
                "labels": {"app.kubernetes.io/name": "web", "tier": "front"},
            },
            "spec": {"ports": [80, 443, 8080, 9090], "weight": 1.5, "name": "spec-name"},
            "items": [
                {"name": "a", "count": 1, "ready": true},
                {"name": "b", "count": 2, "ready": false, "extra": null},
                {"name": "c", "count": 3},
            ],
        })
    }

    #[test]
    fn fields_and_escaped_dots() {
        let data = widget();
        assert_eq!(values("{.metadata.name}", &data), ["w1"]);
        assert_eq!(values("{$.metadata.name}", &data), ["w1"]);
        assert_eq!(
            values(r"{.metadata.labels.app\.kubernetes\.io/name}", &data),
            ["web"]
        );
        assert_eq!(
            values(r"{.metadata.labels['app\.kubernetes\.io/name']}", &data),
            ["web"]
        );
        assert_eq!(values("{.metadata.labels['tier']}", &data), ["front"]);
        assert!(values("{.metadata.missing.deeper}", &data).is_empty());
        assert!(values("{.metadata.name.deeper}", &data).is_empty());
    }

    #[test]
    fn double_quoted_keys_are_not_keys_upstream() {
        assert_eq!(
            parse_error(r#"{.metadata.labels["tier"]}"#),
            r#"invalid array index "tier""#
        );
    }

    #[test]
    fn indexes_slices_and_unions() {
        let data = widget();
        assert_eq!(values("{.spec.ports[0]}", &data), ["80"]);
        assert_eq!(values("{.spec.ports[-1]}", &data), ["9090"]);
        assert_eq!(values("{.spec.ports[-2]}", &data), ["8080"]);
        assert_eq!(values("{.spec.ports[1:3]}", &data), ["443", "8080"]);
        assert_eq!(values("{.spec.ports[-2:]}", &data), ["8080", "9090"]);
        assert_eq!(values("{.spec.ports[::2]}", &data), ["80", "8080"]);
        assert_eq!(values("{.spec.ports[*]}", &data).len(), 4);
        assert_eq!(values("{.spec.ports[0,2]}", &data), ["80", "8080"]);
        assert_eq!(values("{.items[*].name}", &data), ["a", "b", "c"]);
        assert_eq!(values("{.items[0]['name','count']}", &data), ["a", "1"]);
        assert!(values("{.spec.ports[1:1]}", &data).is_empty());
    }

    #[test]
    fn out_of_range_and_non_lists_fail() {
        let data = widget();
        assert_eq!(
            find("{.spec.ports[4]}", &data).expect_err("fails"),
            "array index out of bounds: index 4, length 4"
        );
        assert_eq!(
            find("{.metadata.name[0]}", &data).expect_err("fails"),
            "string is not array or slice"
        );
        assert_eq!(
            find("{.spec.ports[::0]}", &data).expect_err("fails"),
            "step must be > 0"
        );
    }

    #[test]
    fn filters_compare_strings_and_numbers() {
        let data = widget();
        assert_eq!(values(r#"{.items[?(@.name=="b")].count}"#, &data), ["2"]);
        assert_eq!(values("{.items[?(@.name=='b')].count}", &data), ["2"]);
        assert_eq!(
            values(r#"{.items[?(@.name!="b")].name}"#, &data),
            ["a", "c"]
        );
        assert_eq!(values("{.items[?(@.count>1)].name}", &data), ["b", "c"]);
        assert_eq!(values("{.items[?(@.count<2)].name}", &data), ["a"]);
        assert_eq!(values("{.items[?(@.count>=2)].name}", &data), ["b", "c"]);
        assert_eq!(values("{.items[?(@.count<=2)].name}", &data), ["a", "b"]);
        assert_eq!(values("{.items[?(@.ready==true)].name}", &data), ["a"]);
        // Items without the field are skipped, not failed.
        assert_eq!(values("{.items[?(@.ready==false)].name}", &data), ["b"]);
    }

    #[test]
    fn filters_test_existence() {
        let data = widget();
        assert_eq!(values("{.items[?(@.ready)].name}", &data), ["a", "b"]);
        assert_eq!(values("{.items[?(@.extra)].name}", &data), ["b"]);
    }

    #[test]
    fn integers_and_floats_do_not_compare() {
        let data = widget();
        assert_eq!(
            find("{.items[?(@.count>1.5)].name}", &data).expect_err("fails"),
            "incompatible types for comparison"
        );
        assert_eq!(
            find("{.items[?(@.ready<true)].name}", &data).expect_err("fails"),
            "invalid type for comparison"
        );
        assert_eq!(
            find("{.metadata[?(@.x==1)]}", &data).expect_err("fails"),
            "map[string]interface {} is not array or slice and cannot be filtered"
        );
    }

    #[test]
    fn recursive_descent_visits_parents_first() {
        let data = json!({"a": {"name": "x", "b": {"name": "y"}}, "name": "z"});
        assert_eq!(values("{..name}", &data), ["z", "x", "y"]);
        assert_eq!(
            parse_error("{....name}"),
            "invalid multiple recursive descent"
        );
    }

    #[test]
    fn text_between_actions_is_its_own_segment() {
        let data = widget();
        assert_eq!(
            find("{.metadata.name} is {.metadata.labels.tier}", &data).expect("evaluates"),
            [
                vec!["w1".to_owned()],
                vec![" is ".to_owned()],
                vec!["front".to_owned()]
            ]
        );
    }

    #[test]
    fn wildcard_on_a_string_gives_bytes() {
        let data = json!({"s": "ab"});
        assert_eq!(values("{.s.*}", &data), ["97", "98"]);
        // `[*]` is a slice, and a string is not a list.
        assert!(find("{.s[*]}", &data).is_err());
    }

    #[test]
    fn unsupported_identifiers_fail() {
        let data = widget();
        assert_eq!(
            find("{range .items[*]}{.name}{end}", &data).expect_err("fails"),
            "range is not supported"
        );
        assert_eq!(
            find("{.items nonsense}", &data).expect_err("fails"),
            "unrecognized identifier nonsense"
        );
    }

    #[test]
    fn parse_errors_use_client_go_wording() {
        assert_eq!(parse_error("{.a"), "unclosed action");
        assert_eq!(parse_error("{.a[0}"), "unterminated array");
        assert_eq!(parse_error("{.a[x]}"), "invalid array index x");
        assert_eq!(parse_error("{.a[-]}"), "array index - is not a number");
        assert_eq!(parse_error(r#"{.a[?(@.b=="c"}"#), "unterminated filter");
        assert_eq!(parse_error("{.a[?(@.b==1)x}"), "unclosed array expect ]");
        assert_eq!(
            parse_error("{.a[?(@.b==1.2.3)]}"),
            "cannot parse number 1.2.3"
        );
        assert_eq!(parse_error("{.a 'b}"), "unterminated quoted string");
        assert_eq!(
            parse_error(r"{.a 'b\q'}"),
            r"unquote string 'b\q' error invalid syntax"
        );
        assert_eq!(
            parse_error("{.a ?}"),
            "unrecognized character in action: U+003F '?'"
        );
        assert_eq!(
            parse_error("{.a\t}"),
            "unrecognized character in action: U+0009"
        );
    }

    #[test]
    fn operators_split_as_upstream_regex() {
        let split = |text: &str| split_comparison(&text.chars().collect::<Vec<_>>());
        assert_eq!(
            split("@.a==\"b\""),
            Some(("@.a".into(), "==".into(), "\"b\"".into()))
        );
        assert_eq!(split("@.a=="), Some(("@.a".into(), "=".into(), "=".into())));
        assert_eq!(split("@.a="), None);
        assert_eq!(split("==1"), None);
        assert_eq!(split("@.a"), None);
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        assert_eq!(go_float(0.5), "0.5");
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(1_234_567.0), "1.234567e+06");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_json_float(3.0), "3");
        assert_eq!(go_json_float(1e20), "100000000000000000000");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e-7), "1e-7");
        assert_eq!(go_json_float(0.000_001), "0.000001");
    }

    #[test]
    fn maps_and_lists_print_as_go_json() {
        let data = json!({"spec": {"b": [1, 2.0, "x&y"], "a": {"html": "<b>"}, "c": null}});
        assert_eq!(
            values("{.spec}", &data),
            [r#"{"a":{"html":"\u003cb\u003e"},"b":[1,2,"x\u0026y"],"c":null}"#]
        );
    }
}
