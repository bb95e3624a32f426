//! Runs a parsed template over JSON, with the semantics of client-go's jsonpath.

use super::parse::{Filter, Node, Op, Operand, Step};
use serde_json::Value;
use std::cmp::Ordering;

pub(super) struct Evaluator {
    /// kubectl's `--allow-missing-template-keys`: a field that matches nothing yields nothing
    /// instead of an error.
    pub allow_missing_keys: bool,
}

impl Evaluator {
    pub fn run(&self, nodes: &[Node], current: &Value, out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Path(path) => {
                    let texts: Vec<String> = self.path(vec![current], path)?.into_iter().map(value_text).collect();
                    out.push_str(&texts.join(" "));
                }
                Node::Range(path, body) => {
                    for item in self.path(vec![current], path)? {
                        self.run(body, item, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn path<'a>(&self, mut values: Vec<&'a Value>, path: &[Step]) -> Result<Vec<&'a Value>, String> {
        for step in path {
            values = self.step(values, step)?;
        }
        Ok(values)
    }

    fn step<'a>(&self, input: Vec<&'a Value>, step: &Step) -> Result<Vec<&'a Value>, String> {
        // Nulls stand for absent values and are passed over, as Go's nil.
        let input: Vec<&Value> = input.into_iter().filter(|v| !v.is_null()).collect();
        match step {
            Step::Field(name) => self.field(&input, name),
            Step::Index(index) => {
                let mut out = Vec::new();
                for value in input {
                    let items = array(value)?;
                    let at = if *index < 0 { index + items.len() as i64 } else { *index };
                    let item = usize::try_from(at).ok().and_then(|i| items.get(i));
                    out.push(item.ok_or_else(|| out_of_bounds(at, items.len()))?);
                }
                Ok(out)
            }
            Step::Slice { start, end, step } => {
                let mut out = Vec::new();
                for value in input {
                    out.extend(slice(array(value)?, *start, *end, *step)?);
                }
                Ok(out)
            }
            Step::Union(alternatives) => {
                let mut out = Vec::new();
                for alternative in alternatives {
                    out.extend(self.step(input.clone(), alternative)?);
                }
                Ok(out)
            }
            Step::Filter(filter) => {
                let mut out = Vec::new();
                for value in input {
                    let items = value
                        .as_array()
                        .ok_or_else(|| format!("{} is not array or slice and cannot be filtered", type_name(value)))?;
                    for item in items {
                        if self.keeps(filter, item)? {
                            out.push(item);
                        }
                    }
                }
                Ok(out)
            }
            Step::Recursive => Ok(input.into_iter().flat_map(descendants).collect()),
        }
    }

    fn field<'a>(&self, input: &[&'a Value], name: &str) -> Result<Vec<&'a Value>, String> {
        let found: Vec<&Value> = input.iter().filter_map(|v| v.as_object()?.get(name)).collect();
        // Nothing in, nothing out: `[*]` over an empty list is not an error.
        if found.is_empty() && !input.is_empty() && !self.allow_missing_keys {
            return Err(format!("{name} is not found"));
        }
        Ok(found)
    }

    fn keeps(&self, filter: &Filter, item: &Value) -> Result<bool, String> {
        // A missing field in a filter just means the element does not match.
        let lenient = Evaluator { allow_missing_keys: true };
        let left = lenient.operand(&filter.left, item)?;
        let Some((op, right)) = &filter.comparison else {
            return Ok(!left.is_empty());
        };
        let right = lenient.operand(right, item)?;
        match (left.as_slice(), right.as_slice()) {
            ([left], [right]) => compare(left, *op, right),
            ([], _) | (_, []) => Ok(false),
            _ => Err("can only compare one element at a time".to_string()),
        }
    }

    fn operand(&self, operand: &Operand, item: &Value) -> Result<Vec<Value>, String> {
        Ok(match operand {
            Operand::Path(path) => self.path(vec![item], path)?.into_iter().filter(|v| !v.is_null()).cloned().collect(),
            Operand::String(s) => vec![Value::from(s.as_str())],
            Operand::Number(n) => vec![Value::from(*n)],
            Operand::Bool(b) => vec![Value::from(*b)],
        })
    }
}

fn array(value: &Value) -> Result<&[Value], String> {
    value.as_array().map(Vec::as_slice).ok_or_else(|| format!("{} is not array or slice", type_name(value)))
}

fn out_of_bounds(index: i64, len: usize) -> String {
    format!("array index out of bounds: index {index}, length {len}")
}

/// Go slice rules as client-go applies them: negative bounds count from the end, and
/// out-of-range bounds are errors rather than being clamped.
fn slice(items: &[Value], start: Option<i64>, end: Option<i64>, step: Option<i64>) -> Result<Vec<&Value>, String> {
    let len = items.len() as i64;
    let from_end = |i: i64| if i < 0 { i + len } else { i };
    let start = from_end(start.unwrap_or(0));
    let end = end.map_or(len, from_end);
    if start == end {
        return Ok(Vec::new());
    }
    if start < 0 || start >= len {
        return Err(out_of_bounds(start, items.len()));
    }
    if end < 0 || end > len {
        return Err(out_of_bounds(end - 1, items.len()));
    }
    if start > end {
        return Err(format!("starting index {start} is greater than ending index {end}"));
    }
    let step = match step {
        Some(s) if s <= 0 => return Err("step must be > 0".to_string()),
        Some(s) => s as usize,
        None => 1,
    };
    Ok(items[start as usize..end as usize].iter().step_by(step).collect())
}

/// `..`: a container and everything nested in it, depth first; scalars contribute nothing.
fn descendants(value: &Value) -> Vec<&Value> {
    let children: Vec<&Value> = match value {
        Value::Object(map) => map.values().collect(),
        Value::Array(items) => items.iter().collect(),
        _ => return Vec::new(),
    };
    if children.is_empty() {
        return Vec::new();
    }
    let mut out = vec![value];
    out.extend(children.into_iter().flat_map(descendants));
    out
}

fn compare(left: &Value, op: Op, right: &Value) -> Result<bool, String> {
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) if matches!(op, Op::Eq | Op::Ne) => Some(a.cmp(b)),
        _ => return Err(format!("incompatible types for comparison: {} and {}", type_name(left), type_name(right))),
    };
    let Some(ordering) = ordering else { return Ok(op == Op::Ne) };
    Ok(match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Strings print bare; objects and arrays as compact JSON, escaped the way Go's
/// `json.Marshal` does (`<`, `>`, `&`, U+2028 and U+2029), so output matches kubectl's.
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => {
            // Those characters can only occur inside JSON strings, so replacing them is safe.
            let json = value.to_string();
            json.replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026")
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029")
        }
        other => other.to_string(),
    }
}
