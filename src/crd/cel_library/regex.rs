//! Kubernetes' regex library (`regex.go`): `find` and `findAll`, what a regular expression
//! matches in a string, the expression read as Go's RE2 reads it.

use ::cel::common::types::{CelInt, CelList, CelString};
use ::cel::common::value::Val;
use ::cel::{DeclarationError, Env, ExecutionError};
use ::regex::Regex;

use crate::crd::schema::go_regex;

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    ::cel::add_member_overload!(env, fn find: (CelString, CelString) -> Result<CelString>)?;
    ::cel::add_member_overload!(env, fn find_all: (CelString, CelString) -> Result<CelList>)?;
    ::cel::add_member_overload!(env, fn find_all_limited: (CelString, CelString, CelInt)
        -> Result<CelList>, name = "findAll")?;
    Ok(())
}

/// The first match, empty when there is none.
fn find(s: &CelString<'_>, pattern: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    let found = compile("find", pattern)?
        .find(s)
        .map_or("", |found| found.as_str());
    Ok(CelString::from(found.to_owned()))
}

fn find_all(
    s: &CelString<'_>,
    pattern: &CelString<'_>,
) -> Result<CelList<'static>, ExecutionError> {
    find_all_limited(s, pattern, &CelInt::from(-1))
}

/// The successive matches, at most `limit` of them unless it is negative, as Go's
/// `FindAllString` returns them: an empty match right after another is none.
fn find_all_limited(
    s: &CelString<'_>,
    pattern: &CelString<'_>,
    limit: &CelInt,
) -> Result<CelList<'static>, ExecutionError> {
    let limit = usize::try_from(*limit.inner()).unwrap_or(usize::MAX);
    let found: Vec<Box<dyn Val>> = compile("findAll", pattern)?
        .find_iter(s)
        .take(limit)
        .map(|found| Box::new(CelString::from(found.as_str().to_owned())) as Box<dyn Val>)
        .collect();
    Ok(CelList::from(found))
}

fn compile(function: &str, pattern: &str) -> Result<Regex, ExecutionError> {
    go_regex(pattern)
        .map_err(|e| ExecutionError::function_error(function, format!("Illegal regex: {e}")))
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use crate::crd::cel::evaluate;

    #[test]
    fn find_returns_the_first_match() {
        assert_holds(&[
            "'abc 123'.find('[0-9]+') == '123'",
            "'abc 123'.find('xyz') == ''",
            "'abc 123'.find('[0-9]*') == ''",
            "'x١2'.find('\\\\d') == '2'",
        ]);
        let error = evaluate("'abc'.find('(')", &[]).unwrap_err();
        assert!(
            error.starts_with(
                "Error executing function 'find': Illegal regex: error parsing regexp: "
            ),
            "{error}"
        );
    }

    #[test]
    fn find_all_returns_successive_matches() {
        assert_holds(&[
            "'123 abc 456'.findAll('[0-9]+') == ['123', '456']",
            "'123 abc 456'.findAll('[0-9]+', 1) == ['123']",
            "'123 abc 456'.findAll('[0-9]+', 0) == []",
            "'123 abc 456'.findAll('[0-9]+', -1) == ['123', '456']",
            "'123 abc 456'.findAll('xyz') == []",
            "'ab'.findAll('a*') == ['a', '']",
        ]);
    }
}
