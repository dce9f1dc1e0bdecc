//! Kubernetes' quantity library (`quantity.go`): `isQuantity`, `quantity()` and a quantity's
//! comparisons, sums and conversions, on the exact quantities resource validation reads.

use std::cmp::Ordering;

use ::cel::common::types::{CelBool, CelDouble, CelInt, CelString};
use ::cel::common::value::Val;
use ::cel::{DeclarationError, Env, ExecutionError};

use crate::validation::quantity::Quantity;

opaque_type!(Quantity, "kubernetes.Quantity");

pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(Quantity::cel_type().to_owned())?;
    ::cel::add_overload!(env, fn quantity: (CelString) -> Result<Quantity>)?;
    ::cel::add_overload!(env, fn is_quantity: (CelString) -> CelBool)?;
    // Upstream declares `sign` a global function, not a member.
    ::cel::add_overload!(env, fn sign: (Quantity) -> CelInt)?;
    ::cel::add_member_overload!(env, fn is_greater_than: (Quantity, Quantity) -> CelBool)?;
    ::cel::add_member_overload!(env, fn is_less_than: (Quantity, Quantity) -> CelBool)?;
    ::cel::add_member_overload!(env, fn compare_to: (Quantity, Quantity) -> CelInt)?;
    ::cel::add_member_overload!(env, fn as_approximate_float: (Quantity) -> CelDouble)?;
    ::cel::add_member_overload!(env, fn as_integer: (Quantity) -> Result<CelInt>)?;
    ::cel::add_member_overload!(env, fn is_integer: (Quantity) -> CelBool)?;
    ::cel::add_member_overload!(env, fn add: (Quantity, Quantity) -> Result<Quantity>)?;
    ::cel::add_member_overload!(env, fn add_int: (Quantity, CelInt) -> Result<Quantity>,
        name = "add")?;
    ::cel::add_member_overload!(env, fn sub: (Quantity, Quantity) -> Result<Quantity>)?;
    ::cel::add_member_overload!(env, fn sub_int: (Quantity, CelInt) -> Result<Quantity>,
        name = "sub")?;
    Ok(())
}

fn quantity(s: &CelString<'_>) -> Result<Quantity, ExecutionError> {
    Quantity::try_parse(s).map_err(|reason| ExecutionError::function_error("quantity", reason))
}

fn is_quantity(s: &CelString<'_>) -> CelBool {
    CelBool::from(Quantity::parse(s).is_some())
}

fn sign(q: &Quantity) -> CelInt {
    CelInt::from(q.signum())
}

fn is_greater_than(q: &Quantity, other: &Quantity) -> CelBool {
    CelBool::from(q > other)
}

fn is_less_than(q: &Quantity, other: &Quantity) -> CelBool {
    CelBool::from(q < other)
}

fn compare_to(q: &Quantity, other: &Quantity) -> CelInt {
    CelInt::from(match q.cmp(other) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    })
}

fn as_approximate_float(q: &Quantity) -> CelDouble {
    CelDouble::from(q.to_f64())
}

/// The quantity as an int, an error when it is no whole number or does not fit.
fn as_integer(q: &Quantity) -> Result<CelInt, ExecutionError> {
    q.to_i64().map(CelInt::from).ok_or_else(|| {
        ExecutionError::function_error("asInteger", "cannot convert value to integer")
    })
}

fn is_integer(q: &Quantity) -> CelBool {
    CelBool::from(q.to_i64().is_some())
}

fn add(q: &Quantity, other: &Quantity) -> Result<Quantity, ExecutionError> {
    sum("add", q, other)
}

fn add_int(q: &Quantity, n: &CelInt) -> Result<Quantity, ExecutionError> {
    sum("add", q, &Quantity::from(*n.inner()))
}

fn sub(q: &Quantity, other: &Quantity) -> Result<Quantity, ExecutionError> {
    sum("sub", q, &-*other)
}

fn sub_int(q: &Quantity, n: &CelInt) -> Result<Quantity, ExecutionError> {
    sum("sub", q, &-Quantity::from(*n.inner()))
}

/// `q + other`. Upstream computes with unbounded decimals; the sum of quantities so far apart
/// in scale that they do not fit one 128-bit mantissa is an error here.
fn sum(function: &str, q: &Quantity, other: &Quantity) -> Result<Quantity, ExecutionError> {
    q.checked_add(other)
        .ok_or_else(|| ExecutionError::function_error(function, "quantity arithmetic overflowed"))
}

#[cfg(test)]
mod tests {
    use super::super::assert_holds;
    use serde_json::json;

    use crate::crd::cel::evaluate;

    #[test]
    fn quantities_parse_as_upstream_parses_them() {
        assert_holds(&[
            "isQuantity('20') && isQuantity('20M') && isQuantity('20Mi') && isQuantity('1.3G')",
            "!isQuantity('20Mo') && !isQuantity('10Mm') && !isQuantity('1,3G')",
            "quantity('12Mi') == quantity('12Mi')",
            "quantity('200M') == quantity('0.2G') && quantity('0.2G') == quantity('200M')",
            "quantity('2000k') == quantity('2M') && quantity('0.002G') == quantity('2000k')",
            "quantity('200M') != quantity('0.3G')",
            "type(quantity('1')) == kubernetes.Quantity",
        ]);
        assert_eq!(
            evaluate("quantity('10Mo')", &[]),
            Err(
                "Error executing function 'quantity': quantities must match the regular \
                 expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                    .to_owned()
            )
        );
        assert_eq!(
            evaluate("quantity('10Mm')", &[]),
            Err(
                "Error executing function 'quantity': unable to parse quantity's suffix".to_owned()
            )
        );
    }

    #[test]
    fn quantities_compare_by_value() {
        assert_holds(&[
            "quantity('50M').isLessThan(quantity('50Mi'))",
            "!quantity('100M').isLessThan(quantity('50M'))",
            "quantity('150Mi').isGreaterThan(quantity('100Mi'))",
            "!quantity('50M').isGreaterThan(quantity('100M'))",
            "quantity('200M').compareTo(quantity('0.2G')) == 0",
            "quantity('50M').compareTo(quantity('50Mi')) == -1",
            "quantity('50Mi').compareTo(quantity('50M')) == 1",
            "sign(quantity('-1m')) == -1 && sign(quantity('0')) == 0 && sign(quantity('1Ki')) == 1",
        ]);
    }

    #[test]
    fn quantities_add_up_exactly() {
        assert_holds(&[
            "quantity('50k').add(quantity('20')) == quantity('50.02k')",
            "!quantity('50k').add(20).isLessThan(quantity('50020'))",
            "quantity('50k').sub(quantity('20')) == quantity('49.98k')",
            "quantity('50k').sub(20) == quantity('49980')",
            "quantity('1Gi').sub(quantity('1G')) == quantity('73741824')",
            "quantity('50k').add(20).sub(quantity('100k')).asInteger() == -49980",
            "quantity('50k').add(20).sub(quantity('100k')).sub(-50000).asInteger() == 20",
        ]);
    }

    #[test]
    fn quantities_convert_to_numbers() {
        assert_eq!(
            evaluate("quantity('50k').asInteger()", &[]),
            Ok(json!(50000))
        );
        assert_eq!(
            evaluate("quantity('50.703k').asApproximateFloat()", &[]),
            Ok(json!(50703.0))
        );
        assert_holds(&[
            "quantity('50').isInteger() && quantity('50000000G').isInteger()",
            "!quantity('1500m').isInteger()",
            "!quantity('9999999999999999999999999999999999999G').isInteger()",
            "quantity('1.5').asApproximateFloat() == 1.5",
        ]);
        assert_eq!(
            evaluate(
                "quantity('9999999999999999999999999999999999999G').asInteger()",
                &[]
            ),
            Err("Error executing function 'asInteger': cannot convert value to integer".to_owned())
        );
    }
}
