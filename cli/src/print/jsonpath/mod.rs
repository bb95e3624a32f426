//! `-o jsonpath=TEMPLATE`, kubectl style: text with `{...}` actions evaluated over an object's
//! JSON. Several results of one action print space-separated; strings print bare, objects and
//! arrays as compact JSON.

mod eval;
mod parse;

use eval::Evaluator;
use parse::Node;
use serde_json::Value;

/// A template that failed to parse, or failed on the data it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonPathError {
    /// `position` counts characters from the start of the template.
    #[error("error parsing jsonpath {template}: {message} (at position {position})")]
    Parse { template: String, position: usize, message: String },
    #[error("error executing jsonpath {template:?}: {message}")]
    Execute { template: String, message: String },
}

/// A parsed template, ready to run over any number of objects.
#[derive(Debug, Clone)]
pub struct JsonPath {
    template: String,
    nodes: Vec<Node>,
    allow_missing_keys: bool,
}

impl JsonPath {
    pub fn parse(template: &str) -> Result<Self, JsonPathError> {
        let nodes = parse::parse(template).map_err(|e| JsonPathError::Parse {
            template: template.to_string(),
            position: e.position,
            message: e.message,
        })?;
        Ok(JsonPath { template: template.to_string(), nodes, allow_missing_keys: false })
    }

    /// kubectl's `--allow-missing-template-keys`: when true, a field that is not there prints
    /// nothing instead of failing. Off unless asked for.
    pub fn allow_missing_keys(mut self, allow: bool) -> Self {
        self.allow_missing_keys = allow;
        self
    }

    pub fn execute(&self, data: &Value) -> Result<String, JsonPathError> {
        let mut out = String::new();
        Evaluator { allow_missing_keys: self.allow_missing_keys }
            .run(&self.nodes, data, &mut out)
            .map_err(|message| JsonPathError::Execute { template: self.template.clone(), message })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Parses `template` and runs it over `data`; a missing field is an error.
    fn render(template: &str, data: &Value) -> Result<String, JsonPathError> {
        JsonPath::parse(template)?.execute(data)
    }

    fn pods() -> Value {
        json!({
            "kind": "List",
            "items": [
                {
                    "metadata": {"name": "web-1", "labels": {"app": "web"}, "annotations": {"example.com/x": "1"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.19"}, {"name": "log", "image": "busybox"}]},
                    "status": {"phase": "Running", "restarts": 2}
                },
                {
                    "metadata": {"name": "web-2", "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.20"}]},
                    "status": {"phase": "Pending", "restarts": 0}
                }
            ]
        })
    }

    fn run(template: &str) -> String {
        render(template, &pods()).unwrap()
    }

    fn run_err(template: &str) -> String {
        render(template, &pods()).unwrap_err().to_string()
    }

    #[test]
    fn fields_and_indexes() {
        assert_eq!(run("{.items[0].metadata.name}"), "web-1");
        assert_eq!(run("{.items[-1].metadata.name}"), "web-2");
        assert_eq!(run("{.items[0].metadata.labels.app}"), "web");
        assert_eq!(run("{.items[0].status.restarts}"), "2");
        assert_eq!(run("{.kind}"), "List");
    }

    #[test]
    fn wildcards_are_space_separated() {
        assert_eq!(run("{.items[*].metadata.name}"), "web-1 web-2");
        assert_eq!(run("{.items[0].spec.containers[*].image}"), "nginx:1.19 busybox");
        assert_eq!(run("{.items[*].spec.containers[*].name}"), "nginx log nginx");
    }

    #[test]
    fn literal_text_around_actions() {
        assert_eq!(run("name={.items[0].metadata.name};"), "name=web-1;");
        assert_eq!(run(r#"{.items[0].metadata.name}{"\t"}{.items[1].metadata.name}{"\n"}"#), "web-1\tweb-2\n");
    }

    #[test]
    fn escaped_dots_in_keys() {
        assert_eq!(run(r"{.items[0].metadata.annotations.example\.com/x}"), "1");
        assert_eq!(run("{.items[0].metadata.annotations['example.com/x']}"), "1");
    }

    #[test]
    fn range() {
        assert_eq!(run(r#"{range .items[*]}{.metadata.name}{"\n"}{end}"#), "web-1\nweb-2\n");
        assert_eq!(
            run(r#"{range .items[*]}{.metadata.name}:{range .spec.containers[*]} {.name}{end};{end}"#),
            "web-1: nginx log;web-2: nginx;"
        );
        assert_eq!(render(r#"{range .items[*]}{.metadata.name}{end}"#, &json!({"items": []})).unwrap(), "");
    }

    #[test]
    fn whole_values_print_as_compact_json() {
        assert_eq!(run("{.items[1].metadata.labels}"), r#"{"app":"web"}"#);
        assert_eq!(
            render("{.}", &json!({"b": [1, true, null], "a": "<x>"})).unwrap(),
            r#"{"a":"\u003cx\u003e","b":[1,true,null]}"#
        );
        assert_eq!(render("{.a}", &json!({"a": null})).unwrap(), "null");
    }

    #[test]
    fn slices_unions_filters_and_recursion() {
        assert_eq!(run("{.items[0:1].metadata.name}"), "web-1");
        assert_eq!(run("{.items[0].spec.containers[0,1].name}"), "nginx log");
        assert_eq!(run(r#"{.items[?(@.status.phase=="Pending")].metadata.name}"#), "web-2");
        assert_eq!(run("{.items[?(@.status.restarts > 1)].metadata.name}"), "web-1");
        assert_eq!(run("{.items[?(@.metadata.annotations)].metadata.name}"), "web-1");
        assert_eq!(run("{..image}"), "nginx:1.19 busybox nginx:1.20");
    }

    #[test]
    fn empty_lists_print_nothing() {
        assert_eq!(render("{.items[*].metadata.name}", &json!({"items": []})).unwrap(), "");
    }

    #[test]
    fn missing_fields() {
        assert_eq!(
            run_err("{.items[0].metadata.nope}"),
            r#"error executing jsonpath "{.items[0].metadata.nope}": nope is not found"#
        );
        let lenient = JsonPath::parse("[{.metadata.nope}]").unwrap().allow_missing_keys(true);
        assert_eq!(lenient.execute(&json!({"metadata": {}})).unwrap(), "[]");
    }

    #[test]
    fn execution_errors() {
        assert_eq!(
            run_err("{.items[5]}"),
            r#"error executing jsonpath "{.items[5]}": array index out of bounds: index 5, length 2"#
        );
        assert!(run_err("{.kind[0]}").ends_with("string is not array or slice"));
        assert!(run_err("{.items[0:9]}").ends_with("array index out of bounds: index 8, length 2"));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            run_err("{.items[0}"),
            "error parsing jsonpath {.items[0}: unterminated array index: expected ']' (at position 7)"
        );
        assert_eq!(run_err("{.a"), "error parsing jsonpath {.a: unclosed action: expected '}' (at position 0)");
    }
}
