//! Kubernetes' own CEL libraries, after `k8s.io/apiserver/pkg/cel/library`: IP addresses and
//! CIDRs, URLs, quantities, list functions and regex finds. Real CRDs' rules and admission
//! policies call them (gateway-api's `self.all(h, !isIP(h))`, istio's `isURL(self)`), so they
//! are part of the one environment of [`super::cel`], with upstream's semantics and wording.
//!
//! Upstream's types (`net.IP`, `kubernetes.Quantity`, ...) are Rust types made CEL values of an
//! opaque type of that name, which the overload macros take and return as they are.

/// Makes `$t` the CEL value of the opaque type `$name`, equal to the values of its type it is
/// `==` to, as upstream's types compare.
macro_rules! opaque_type {
    ($t:ty, $name:literal) => {
        impl ::cel::common::value::Val for $t {
            fn get_type(&self) -> &::cel::common::types::Type {
                <Self as ::cel::common::value::Val>::cel_type()
            }

            fn cel_type() -> &'static ::cel::common::types::Type {
                static TYPE: ::cel::common::types::Type = ::cel::common::types::Type::simple_type(
                    ::cel::common::types::Kind::Opaque,
                    $name,
                );
                &TYPE
            }

            fn equals(&self, other: &dyn ::cel::common::value::Val) -> bool {
                other
                    .downcast_ref::<$t>()
                    .is_some_and(|other| other == self)
            }

            fn clone_as_boxed<'v>(&self) -> Box<dyn ::cel::common::value::Val + 'v> {
                Box::new(self.clone())
            }

            fn as_any(&self) -> Option<&dyn ::std::any::Any> {
                Some(self)
            }
        }

        impl ::cel::common::value::StaticVal for $t {}
    };
}

mod cidr;
mod ip;
mod lists;
mod netip;
mod quantity;
mod regex;
mod url;

use ::cel::{DeclarationError, Env};

/// Registers the libraries' types and functions on `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    ip::extension(env)?;
    cidr::extension(env)?;
    url::extension(env)?;
    quantity::extension(env)?;
    lists::extension(env)?;
    regex::extension(env)?;
    Ok(())
}

/// Asserts that each expression holds, for the libraries' tests.
#[cfg(test)]
fn assert_holds(expressions: &[&str]) {
    for expression in expressions {
        assert_eq!(
            crate::crd::cel::holds(expression, &[]),
            Ok(true),
            "{expression}"
        );
    }
}
