//! The template grammar of kubectl's jsonpath (k8s.io/client-go/util/jsonpath):
//! literal text with `{...}` actions holding a path (`.a.b`, `[0]`, `[1:3]`, `[*]`, `['k']`,
//! `[0,2]`, `[?(@.x == "y")]`, `..name`), a quoted string, a number, or `range PATH` / `end`.

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// Text outside actions, or a quoted string or number inside one: printed as is.
    Text(String),
    /// Printed as its results, separated by spaces.
    Path(Vec<Step>),
    /// `{range PATH}BODY{end}`: BODY once per result, with that result as the current value.
    Range(Vec<Step>, Vec<Node>),
}

/// One step of a path, applied to every value the previous step produced.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `[n]`; negative counts from the end.
    Index(i64),
    /// `[start:end:step]`; `[*]` is `[:]`.
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
    },
    /// `[a,b]`: the results of each alternative, in order.
    Union(Vec<Step>),
    Filter(Box<Filter>),
    /// `..`: the value and all values nested in it.
    Recursive,
}

/// `[?(LEFT)]` keeps elements where LEFT has a value; `[?(LEFT OP RIGHT)]` compares.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub left: Operand,
    pub comparison: Option<(Op, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    /// Relative to the element being filtered (`@.a`).
    Path(Vec<Step>),
    String(String),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Where parsing failed (a character offset into the template) and what was wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParseError {
    pub position: usize,
    pub message: String,
}

type Result<T> = std::result::Result<T, ParseError>;

pub(super) fn parse(template: &str) -> Result<Vec<Node>> {
    Parser { chars: template.chars().collect(), pos: 0 }.template()
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

/// An open `{range}`: its path, where it started, and the nodes before it.
struct OpenRange {
    path: Vec<Step>,
    position: usize,
    outer: Vec<Node>,
}

impl Parser {
    fn template(&mut self) -> Result<Vec<Node>> {
        let mut nodes = Vec::new();
        let mut ranges: Vec<OpenRange> = Vec::new();
        loop {
            let text = self.take_while(|c| c != '{');
            if !text.is_empty() {
                nodes.push(Node::Text(text));
            }
            let Some(open) = self.eat('{').then_some(self.pos - 1) else { break };
            self.skip_spaces();
            if self.keyword("range") {
                self.skip_spaces();
                let path = self.path(false)?;
                self.close_action(open)?;
                ranges.push(OpenRange { path, position: open, outer: std::mem::take(&mut nodes) });
            } else if self.keyword("end") {
                self.close_action(open)?;
                let range = ranges.pop().ok_or_else(|| error(open, "{end} without a matching {range}"))?;
                let body = std::mem::replace(&mut nodes, range.outer);
                nodes.push(Node::Range(range.path, body));
            } else {
                let node = self.action_body()?;
                self.close_action(open)?;
                nodes.push(node);
            }
        }
        match ranges.last() {
            Some(range) => Err(error(range.position, "{range} is not closed: expected {end}")),
            None => Ok(nodes),
        }
    }

    /// What an action holds besides range/end: a quoted string, a number, or a path.
    fn action_body(&mut self) -> Result<Node> {
        match self.peek() {
            Some(q @ ('"' | '\'')) => Ok(Node::Text(self.quoted(q)?)),
            Some(c) if self.starts_number(c) => Ok(Node::Text(self.number_text())),
            Some('.' | '[' | '$' | '@') => Ok(Node::Path(self.path(false)?)),
            Some(c) if c.is_alphanumeric() => {
                let start = self.pos;
                let word = self.take_while(char::is_alphanumeric);
                Err(error(start, &format!("unrecognized identifier {word:?}: expected a path starting with '.', a quoted string, range or end")))
            }
            Some(c) => Err(error(
                self.pos,
                &format!("unexpected {c:?}: expected a path starting with '.', a quoted string, range or end"),
            )),
            None => Err(error(self.pos, "unclosed action: expected a path and '}'")),
        }
    }

    fn close_action(&mut self, open: usize) -> Result<()> {
        self.skip_spaces();
        match self.peek() {
            Some('}') => {
                self.pos += 1;
                Ok(())
            }
            None => Err(error(open, "unclosed action: expected '}'")),
            Some(c) => Err(error(self.pos, &format!("unexpected {c:?}: expected '}}' to close the action"))),
        }
    }

    /// A path; inside a filter, names also stop at operators and parentheses.
    fn path(&mut self, in_filter: bool) -> Result<Vec<Step>> {
        // `$` (root) and `@` (current) both mean the current value, as in kubectl.
        let _ = self.eat('$') || self.eat('@');
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    steps.push(Step::Recursive);
                    let name = self.name(in_filter)?;
                    if !name.is_empty() {
                        steps.push(Step::Field(name));
                    }
                }
                Some('.') => {
                    self.pos += 1;
                    // A bare `.` is the current value.
                    let name = self.name(in_filter)?;
                    if !name.is_empty() {
                        steps.push(Step::Field(name));
                    }
                }
                Some('[') => steps.push(self.bracket()?),
                _ => return Ok(steps),
            }
        }
    }

    /// A field name; `\` makes the next character part of it (`example\.com/x`).
    fn name(&mut self, in_filter: bool) -> Result<String> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            let stops = c.is_whitespace()
                || matches!(c, '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
                || (in_filter && matches!(c, '(' | ')' | '=' | '!' | '<' | '>'));
            if stops {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                let escaped =
                    self.peek().ok_or_else(|| error(self.pos - 1, "a backslash must be followed by a character"))?;
                name.push(escaped);
                self.pos += 1;
            } else {
                name.push(c);
            }
        }
        Ok(name)
    }

    /// `[...]`: an index, slice, `*`, quoted key, a union of those, or a filter.
    fn bracket(&mut self) -> Result<Step> {
        let open = self.pos;
        self.pos += 1;
        if self.eat('?') {
            return self.filter(open);
        }
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            items.push(self.bracket_item()?);
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                // A `}` here means the action ended inside the brackets.
                None | Some('}') => return Err(error(open, "unterminated array index: expected ']'")),
                Some(c) => {
                    return Err(error(self.pos, &format!("unexpected {c:?} in array index: expected ',' or ']'")))
                }
            }
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Step::Union(items) })
    }

    fn bracket_item(&mut self) -> Result<Step> {
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                Ok(Step::Slice { start: None, end: None, step: None })
            }
            Some(q @ ('"' | '\'')) => Ok(Step::Field(self.quoted(q)?)),
            _ => {
                let start_pos = self.pos;
                let start = self.integer()?;
                if !self.eat(':') {
                    return start.map(Step::Index).ok_or_else(|| {
                        error(
                            start_pos,
                            "invalid array index: expected a number, a slice like 1:3, '*' or a quoted key",
                        )
                    });
                }
                let end = self.integer()?;
                let step = if self.eat(':') { self.integer()? } else { None };
                Ok(Step::Slice { start, end, step })
            }
        }
    }

    fn integer(&mut self) -> Result<Option<i64>> {
        let start = self.pos;
        let sign = if self.eat('-') { "-" } else { "" };
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return if sign.is_empty() { Ok(None) } else { Err(error(self.pos, "expected digits after '-'")) };
        }
        format!("{sign}{digits}").parse().map(Some).map_err(|_| error(start, "array index is too large"))
    }

    /// `?(LEFT [OP RIGHT])]`, after the `[?`.
    fn filter(&mut self, open: usize) -> Result<Step> {
        if !self.eat('(') {
            return Err(error(self.pos, "expected '(' after '[?'"));
        }
        self.skip_spaces();
        let left = self.operand()?;
        self.skip_spaces();
        let comparison = match self.peek() {
            Some(')') => None,
            _ => {
                let op = self.operator()?;
                self.skip_spaces();
                Some((op, self.operand()?))
            }
        };
        self.skip_spaces();
        if !self.eat(')') {
            return Err(match self.peek() {
                None => error(open, "unterminated filter: expected ')]'"),
                Some(c) => error(self.pos, &format!("unexpected {c:?} in filter: expected ')'")),
            });
        }
        if !self.eat(']') {
            return Err(error(self.pos, "expected ']' to close the filter"));
        }
        Ok(Step::Filter(Box::new(Filter { left, comparison })))
    }

    fn operator(&mut self) -> Result<Op> {
        const OPS: [(&str, Op); 6] =
            [("==", Op::Eq), ("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
        for (text, op) in OPS {
            if self.starts_with(text) {
                self.pos += text.len();
                return Ok(op);
            }
        }
        Err(error(self.pos, "expected a comparison (==, !=, <, <=, >, >=) or ')'"))
    }

    fn operand(&mut self) -> Result<Operand> {
        match self.peek() {
            Some(q @ ('"' | '\'')) => Ok(Operand::String(self.quoted(q)?)),
            Some(c) if self.starts_number(c) => {
                let start = self.pos;
                let text = self.number_text();
                text.parse().map(Operand::Number).map_err(|_| error(start, &format!("{text:?} is not a number")))
            }
            Some('@' | '$' | '.' | '[') => Ok(Operand::Path(self.path(true)?)),
            _ if self.keyword("true") => Ok(Operand::Bool(true)),
            _ if self.keyword("false") => Ok(Operand::Bool(false)),
            _ => Err(error(self.pos, "expected a path like @.name, a quoted string, a number, true or false")),
        }
    }

    /// A quoted string with Go-style escapes (`\n`, `\t`, `\"`, `\u00e9`, ...).
    fn quoted(&mut self, quote: char) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let c =
                self.next().ok_or_else(|| error(open, &format!("unterminated string: expected a closing {quote}")))?;
            match c {
                c if c == quote => return Ok(text),
                '\\' => text.push(self.escape()?),
                c => text.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char> {
        let at = self.pos - 1;
        let c = self.next().ok_or_else(|| error(at, "unterminated escape"))?;
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'v' => '\x0b',
            '\\' | '"' | '\'' => c,
            'u' => {
                let hex: String = (0..4).filter_map(|_| self.next()).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| error(at, "invalid \\u escape: expected four hex digits"))?
            }
            other => return Err(error(at, &format!("unknown escape \\{other}"))),
        })
    }

    fn starts_number(&self, c: char) -> bool {
        c.is_ascii_digit() || (matches!(c, '-' | '+') && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()))
    }

    fn number_text(&mut self) -> String {
        let sign: String = self.peek().filter(|c| matches!(c, '-' | '+')).map(|c| c.to_string()).unwrap_or_default();
        self.pos += sign.len();
        sign + &self.take_while(|c| c.is_ascii_digit() || c == '.')
    }

    /// Consumes `word` if it is there as a whole word.
    fn keyword(&mut self, word: &str) -> bool {
        let after = self.peek_at(word.chars().count());
        if self.starts_with(word) && !after.is_some_and(char::is_alphanumeric) {
            self.pos += word.chars().count();
            return true;
        }
        false
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn skip_spaces(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }
}

fn error(position: usize, message: &str) -> ParseError {
    ParseError { position, message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Step {
        Step::Field(name.to_string())
    }

    const ALL: Step = Step::Slice { start: None, end: None, step: None };

    #[test]
    fn text_and_paths() {
        assert_eq!(
            parse("name: {.metadata.name}!").unwrap(),
            [Node::Text("name: ".into()), Node::Path(vec![field("metadata"), field("name")]), Node::Text("!".into())]
        );
        assert_eq!(parse("{.}").unwrap(), [Node::Path(vec![])]);
        assert_eq!(parse("{ $.a }").unwrap(), [Node::Path(vec![field("a")])]);
    }

    #[test]
    fn brackets() {
        assert_eq!(parse("{.items[*].x}").unwrap(), [Node::Path(vec![field("items"), ALL, field("x")])]);
        assert_eq!(parse("{.a[-1]}").unwrap(), [Node::Path(vec![field("a"), Step::Index(-1)])]);
        assert_eq!(
            parse("{.a[1:3]}").unwrap(),
            [Node::Path(vec![field("a"), Step::Slice { start: Some(1), end: Some(3), step: None }])]
        );
        assert_eq!(
            parse("{.a[0, 2]}").unwrap(),
            [Node::Path(vec![field("a"), Step::Union(vec![Step::Index(0), Step::Index(2)])])]
        );
        assert_eq!(parse("{.a['b.c']}").unwrap(), [Node::Path(vec![field("a"), field("b.c")])]);
    }

    #[test]
    fn escaped_dots() {
        assert_eq!(
            parse(r"{.metadata.annotations.example\.com/x}").unwrap(),
            [Node::Path(vec![field("metadata"), field("annotations"), field("example.com/x")])]
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            parse(r#"{"\t"}{'a\'b'}{"\u00e9"}{42}"#).unwrap(),
            [Node::Text("\t".into()), Node::Text("a'b".into()), Node::Text("é".into()), Node::Text("42".into())]
        );
    }

    #[test]
    fn ranges_nest() {
        let nodes = parse("{range .items[*]}{range .c[*]}{.n}{end}{\"\\n\"}{end}").unwrap();
        let inner = Node::Range(vec![field("c"), ALL], vec![Node::Path(vec![field("n")])]);
        assert_eq!(nodes, [Node::Range(vec![field("items"), ALL], vec![inner, Node::Text("\n".into())])]);
    }

    #[test]
    fn filters() {
        let nodes = parse(r#"{.items[?(@.status.phase=="Running")].metadata.name}"#).unwrap();
        let filter = Filter {
            left: Operand::Path(vec![field("status"), field("phase")]),
            comparison: Some((Op::Eq, Operand::String("Running".into()))),
        };
        assert_eq!(
            nodes,
            [Node::Path(vec![field("items"), Step::Filter(Box::new(filter)), field("metadata"), field("name")])]
        );
        let exists = parse("{.a[?(@.b)]}").unwrap();
        let filter = Filter { left: Operand::Path(vec![field("b")]), comparison: None };
        assert_eq!(exists, [Node::Path(vec![field("a"), Step::Filter(Box::new(filter))])]);
        assert!(parse("{.a[?(@.n >= -2.5)]}").is_ok());
    }

    #[test]
    fn recursive_descent() {
        assert_eq!(parse("{..name}").unwrap(), [Node::Path(vec![Step::Recursive, field("name")])]);
    }

    fn parse_error(template: &str) -> (usize, String) {
        let e = parse(template).unwrap_err();
        (e.position, e.message)
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        assert_eq!(parse_error("{.items[0}"), (7, "unterminated array index: expected ']'".into()));
        assert_eq!(parse_error("{.a"), (0, "unclosed action: expected '}'".into()));
        assert_eq!(
            parse_error("{.a[x]}"),
            (4, "invalid array index: expected a number, a slice like 1:3, '*' or a quoted key".into())
        );
        assert_eq!(parse_error("x{end}"), (1, "{end} without a matching {range}".into()));
        assert_eq!(parse_error("{range .a}{.b}"), (0, "{range} is not closed: expected {end}".into()));
        assert_eq!(parse_error(r#"{"abc}"#), (1, "unterminated string: expected a closing \"".into()));
        assert!(parse_error("{metadata}").1.starts_with("unrecognized identifier \"metadata\""));
        assert_eq!(parse_error("{.a[?(@.b = 1)]}").0, 10);
    }
}
