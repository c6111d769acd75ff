//! A form's problems, each shown twice as the GOV.UK pattern has it: in the summary at the
//! top of the page (a link to its input) and at the input itself, above it, with the input
//! styled as in error. Templates ask through [`FieldErrors`] and the `field.html` macros.

/// A form's problems: (input id, message). An empty id is a problem of the whole form,
/// shown in the summary only.
pub type Errors = Vec<(String, String)>;

/// What a template asks of a form's problems about one input.
pub trait FieldErrors {
    /// The message for input `id` (the first, when it has several).
    fn at(&self, id: &str) -> Option<&str>;

    /// ` has-error` for the wrapper of input `id` when it has a problem, else nothing.
    fn field_class(&self, id: &str) -> &'static str {
        if self.at(id).is_some() {
            " has-error"
        } else {
            ""
        }
    }

    /// ` input-error` for input `id` when it has a problem, else nothing.
    fn input_class(&self, id: &str) -> &'static str {
        if self.at(id).is_some() {
            " input-error"
        } else {
            ""
        }
    }

    /// The ids that describe input `id`: its hint (`""`: none) and its error message.
    fn described_by(&self, id: &str, hint: &str) -> String {
        match (hint.is_empty(), self.at(id).is_some()) {
            (true, false) => String::new(),
            (false, false) => hint.to_string(),
            (true, true) => format!("{id}-error"),
            (false, true) => format!("{hint} {id}-error"),
        }
    }
}

impl FieldErrors for Errors {
    fn at(&self, id: &str) -> Option<&str> {
        self.iter()
            .find(|(field, _)| !field.is_empty() && field == id)
            .map(|(_, message)| message.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_marked_only_by_its_own_problem() {
        let errors: Errors = vec![
            ("phone".into(), "Enter a phone number.".into()),
            (String::new(), "Try again later.".into()),
        ];
        assert_eq!(errors.at("phone"), Some("Enter a phone number."));
        assert_eq!(errors.at("code"), None);
        assert_eq!(errors.at(""), None, "a whole-form problem has no input");
        assert_eq!(errors.field_class("phone"), " has-error");
        assert_eq!(errors.input_class("code"), "");
        assert_eq!(
            errors.described_by("phone", "phone-hint"),
            "phone-hint phone-error"
        );
        assert_eq!(errors.described_by("phone", ""), "phone-error");
        assert_eq!(errors.described_by("code", "code-hint"), "code-hint");
        assert_eq!(errors.described_by("code", ""), "");
    }
}
