//! Kubernetes' list library (`lists.go`): `isSorted`, `sum`, `min`, `max`, `indexOf` and
//! `lastIndexOf` on lists, of comparable values for the first four.

use std::cmp::Ordering;

use ::cel::common::traits::Comparer;
use ::cel::common::types::{CelBool, CelInt, DYN_TYPE, Kind, LIST_TYPE};
use ::cel::common::value::{CowVal, Val};
use ::cel::{DeclarationError, Env, ExecutionError};

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    // By hand, as the overload macros would take the receiver as a `CelList`: these take any
    // list, as the standard library's list functions do.
    env.add_member_overload("isSorted", "list.isSorted()", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list.sum()", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list.min()", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list.max()", LIST_TYPE, vec![], max)?;
    env.add_member_overload(
        "indexOf",
        "list.indexOf(dyn)",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list.lastIndexOf(dyn)",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )?;
    Ok(())
}

/// Whether no element is greater than the next.
fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = arguments(args)?;
    let mut previous: Option<&dyn Comparer> = None;
    for item in elements(&list)? {
        let next = comparer("isSorted", item)?;
        if let Some(previous) = previous
            && previous.compare(item)? == Ordering::Greater
        {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
        previous = Some(next);
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

/// The sum of the numbers or durations, `0` for an empty list.
fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = arguments(args)?;
    let mut total: Option<Box<dyn Val + 'v>> = None;
    for item in elements(&list)? {
        let summable = matches!(
            item.get_type().kind(),
            Kind::Int | Kind::UInt | Kind::Double | Kind::Duration
        );
        if !summable {
            return Err(no_such_overload("sum"));
        }
        total = Some(match total {
            None => item.clone_as_boxed(),
            Some(total) => {
                let adder = total.as_adder().ok_or_else(|| no_such_overload("sum"))?;
                adder.add(item)?.into_owned()
            }
        });
    }
    Ok(match total {
        Some(total) => CowVal::Owned(total),
        None => CowVal::owned(CelInt::from(0)),
    })
}

fn min<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("min", Ordering::Greater, args)
}

fn max<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("max", Ordering::Less, args)
}

/// The least or greatest element, as `function` is `min` or `max`: the first one kept until an
/// element it compares to as `replaced_when`, as upstream keeps it, so the first of equals wins.
fn extreme<'b, 'v>(
    function: &str,
    replaced_when: Ordering,
    args: Vec<CowVal<'b, 'v>>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list] = arguments(args)?;
    let mut best: Option<&(dyn Val + 'v)> = None;
    for item in elements(&list)? {
        comparer(function, item)?;
        let replaced = match best {
            Some(best) => comparer(function, best)?.compare(item)? == replaced_when,
            None => true,
        };
        if replaced {
            best = Some(item);
        }
    }
    let best = best.ok_or_else(|| {
        ExecutionError::function_error(function, format!("{function} called on empty list"))
    })?;
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

/// The index of the first element equal to the argument, -1 if none is.
fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, wanted] = arguments(args)?;
    let found = elements(&list)?
        .iter()
        .position(|item| item.equals(wanted.as_ref()));
    Ok(index(found))
}

/// The index of the last element equal to the argument, -1 if none is.
fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let [list, wanted] = arguments(args)?;
    let found = elements(&list)?
        .iter()
        .rposition(|item| item.equals(wanted.as_ref()));
    Ok(index(found))
}

fn index<'b, 'v>(found: Option<usize>) -> CowVal<'b, 'v> {
    let index = found.and_then(|i| i64::try_from(i).ok()).unwrap_or(-1);
    CowVal::owned(CelInt::from(index))
}

/// An overload's `N` arguments, the list it was called on first.
fn arguments<'b, 'v, const N: usize>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<[CowVal<'b, 'v>; N], ExecutionError> {
    args.try_into()
        .map_err(|args: Vec<_>| ExecutionError::invalid_argument_count(N, args.len()))
}

/// The elements of `list`, borrowed.
fn elements<'a, 'v>(list: &'a CowVal<'_, 'v>) -> Result<Vec<&'a (dyn Val + 'v)>, ExecutionError> {
    let iterable = list
        .as_iterable()
        .ok_or_else(|| ExecutionError::UnexpectedType {
            got: list.get_type().name().to_owned(),
            want: "list".to_owned(),
        })?;
    let mut items = iterable.iter();
    let mut elements = Vec::new();
    while let Some(item) = items.next() {
        elements.push(item);
    }
    Ok(elements)
}

/// `item` as a value that orders, which the function needs of every element.
fn comparer<'a>(function: &str, item: &'a dyn Val) -> Result<&'a dyn Comparer, ExecutionError> {
    item.as_comparer().ok_or_else(|| no_such_overload(function))
}

/// What upstream reports of a list function called on elements it takes no overload for.
fn no_such_overload(function: &str) -> ExecutionError {
    ExecutionError::no_such_member_overload(function, vec!["list".to_owned()])
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use serde_json::json;

    use crate::crd::cel::evaluate;

    #[test]
    fn lists_know_whether_they_are_sorted() {
        assert_holds(&[
            "[1, 2, 3].isSorted() && ['a', 'b', 'b', 'c'].isSorted()",
            "![2.0, 1.0].isSorted() && [1].isSorted() && [].isSorted()",
            "[false, true].isSorted() && ![b'b', b'a'].isSorted()",
        ]);
        let error = evaluate("[[1], [2]].isSorted()", &[]).unwrap_err();
        assert!(
            error.contains("no matching overload for 'isSorted'"),
            "{error}"
        );
    }

    #[test]
    fn lists_sum_their_numbers() {
        assert_eq!(evaluate("[1, 3].sum()", &[]), Ok(json!(4)));
        assert_eq!(evaluate("[1.0, 3.5].sum()", &[]), Ok(json!(4.5)));
        assert_eq!(evaluate("[1u, 3u].sum()", &[]), Ok(json!(4)));
        assert_eq!(evaluate("[].sum()", &[]), Ok(json!(0)));
        let error = evaluate("['a', 'b'].sum()", &[]).unwrap_err();
        assert!(error.contains("no matching overload for 'sum'"), "{error}");
    }

    #[test]
    fn lists_have_a_least_and_a_greatest_element() {
        assert_holds(&[
            "[1, 3].min() == 1 && [1, 3].max() == 3 && [1].min() == 1",
            "['b', 'a', 'c'].min() == 'a' && ['b', 'a', 'c'].max() == 'c'",
            "([0] + []).min() == 0",
        ]);
        assert_eq!(
            evaluate("[].min()", &[]),
            Err("Error executing function 'min': min called on empty list".to_owned())
        );
        assert_eq!(
            evaluate("[].max()", &[]),
            Err("Error executing function 'max': max called on empty list".to_owned())
        );
    }

    #[test]
    fn lists_find_their_elements() {
        assert_holds(&[
            "[1, 2, 2, 3].indexOf(2) == 1",
            "['a', 'b', 'b', 'c'].lastIndexOf('b') == 2",
            "[1.0].indexOf(1.1) == -1 && [].indexOf('string') == -1",
            "[[1], [2]].indexOf([2]) == 1",
            "'abcb'.indexOf('b') == 1 && 'abcb'.lastIndexOf('b') == 3",
        ]);
    }
}
