//! Resource amounts as the scheduler compares them: quantities read into integers once, and the
//! cpu, memory, ephemeral-storage and pod-count vectors of what pods request and nodes offer.

use std::collections::BTreeMap;
use std::ops::{AddAssign, SubAssign};

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

type ResourceList = BTreeMap<String, Quantity>;

const CPU: &str = "cpu";
const MEMORY: &str = "memory";
const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
const PODS: &str = "pods";

/// Upstream's stand-in cpu request, in millicores, for ranking a pod that asks for none.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Upstream's stand-in memory request, in bytes, for ranking a pod that asks for none.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Significant digits kept from a quantity's number; more cannot matter at `i64` range.
const MAX_DIGITS: u32 = 38;

/// Reads a quantity in millis (cpu), rounded up as upstream's `MilliValue` is; `None` if malformed.
pub fn parse_milli(quantity: &str) -> Option<i64> {
    parse_scaled(quantity, -3)
}

/// Reads a quantity in units (bytes, counts), rounded up as upstream's `Value` is; `None` if
/// malformed.
pub fn parse_value(quantity: &str) -> Option<i64> {
    parse_scaled(quantity, 0)
}

/// Amounts of the resources the scheduler accounts for. Depending on use it is a request, a sum of
/// requests, or what a node can allocate; `pods` is the allocatable pod count of a node and 1 in a
/// pod's request, so that the pod-count check is one more dimension of [`Resources::fits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    pub pods: i64,
}

/// The dimensions in which a request does not fit, in upstream's reporting order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shortfall {
    pub pods: bool,
    pub cpu: bool,
    pub memory: bool,
    pub ephemeral_storage: bool,
}

impl Shortfall {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Resources {
    /// Whether `request` fits in what `self`, a capacity, leaves after `used`.
    pub fn fits(&self, used: &Resources, request: &Resources) -> bool {
        self.shortfall(used, request).is_empty()
    }

    /// The dimensions where `request` exceeds what `self` leaves after `used`. As upstream, a
    /// dimension the request does not ask for never falls short, even on an overcommitted node.
    pub fn shortfall(&self, used: &Resources, request: &Resources) -> Shortfall {
        let short = |capacity: i64, used: i64, wanted: i64| {
            wanted > 0 && wanted > capacity.saturating_sub(used)
        };
        Shortfall {
            pods: short(self.pods, used.pods, request.pods),
            cpu: short(self.milli_cpu, used.milli_cpu, request.milli_cpu),
            memory: short(self.memory, used.memory, request.memory),
            ephemeral_storage: short(
                self.ephemeral_storage,
                used.ephemeral_storage,
                request.ephemeral_storage,
            ),
        }
    }

    /// These requests as node ranking counts them: no cpu or no memory counts as upstream's
    /// defaults, so that pods asking for nothing still spread instead of piling onto one node.
    pub fn non_zero(&self) -> Resources {
        let or_default = |amount: i64, default: i64| if amount == 0 { default } else { amount };
        Resources {
            milli_cpu: or_default(self.milli_cpu, DEFAULT_MILLI_CPU_REQUEST),
            memory: or_default(self.memory, DEFAULT_MEMORY_REQUEST),
            ..*self
        }
    }

    fn max_each(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.max(other.milli_cpu),
            memory: self.memory.max(other.memory),
            ephemeral_storage: self.ephemeral_storage.max(other.ephemeral_storage),
            pods: self.pods.max(other.pods),
        }
    }

    /// Reads a resource list, looking each resource up in `lists` in order and taking the first
    /// that names it; a malformed quantity counts as zero.
    fn read(lists: &[Option<&ResourceList>]) -> Resources {
        let amount = |name: &str, parse: fn(&str) -> Option<i64>| {
            lists
                .iter()
                .flatten()
                .find_map(|list| list.get(name))
                .and_then(|quantity| parse(&quantity.0))
                .unwrap_or(0)
        };
        Resources {
            milli_cpu: amount(CPU, parse_milli),
            memory: amount(MEMORY, parse_value),
            ephemeral_storage: amount(EPHEMERAL_STORAGE, parse_value),
            pods: amount(PODS, parse_value),
        }
    }
}

impl AddAssign for Resources {
    fn add_assign(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        self.pods = self.pods.saturating_add(other.pods);
    }
}

impl SubAssign for Resources {
    fn sub_assign(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        self.pods = self.pods.saturating_sub(other.pods);
    }
}

/// What a pod occupies on its node while it runs, computed as upstream does: regular containers
/// and restartable (sidecar) init containers run together and add up; each other init container
/// runs alone beside the sidecars started before it, so the pod needs the larger of the two
/// peaks, plus its overhead. `pods` is 1.
pub fn pod_requests(pod: &Pod) -> Resources {
    let Some(spec) = &pod.spec else {
        return Resources {
            pods: 1,
            ..Resources::default()
        };
    };
    let mut running = Resources::default();
    for container in &spec.containers {
        running += container_requests(container);
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for container in spec.init_containers.iter().flatten() {
        let requests = container_requests(container);
        let mut during_init = sidecars;
        during_init += requests;
        if is_sidecar(container) {
            running += requests;
            sidecars = during_init;
        }
        init_peak = init_peak.max_each(during_init);
    }
    let mut total = running.max_each(init_peak);
    total += Resources::read(&[spec.overhead.as_ref()]);
    Resources { pods: 1, ..total }
}

/// What a node offers to pods, from its status; a node that reports nothing offers nothing.
pub fn allocatable(node: &Node) -> Resources {
    let status = node.status.as_ref();
    Resources::read(&[status.and_then(|status| status.allocatable.as_ref())])
}

/// An init container that keeps running beside the regular ones.
pub fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// A container's requests; a resource with only a limit requests the limit, as API defaulting
/// would have set it.
fn container_requests(container: &Container) -> Resources {
    let resources = container.resources.as_ref();
    Resources {
        pods: 0,
        ..Resources::read(&[
            resources.and_then(|r| r.requests.as_ref()),
            resources.and_then(|r| r.limits.as_ref()),
        ])
    }
}

/// Parses `quantity` into units of `10^scale`, rounding the magnitude up and saturating at the
/// bounds of `i64`.
fn parse_scaled(quantity: &str, scale: i32) -> Option<i64> {
    let (negative, unsigned) = match quantity.as_bytes().first()? {
        b'-' => (true, &quantity[1..]),
        b'+' => (false, &quantity[1..]),
        _ => (false, quantity),
    };
    let number_len = unsigned
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_len);
    let (mantissa, exp10) = parse_number(number)?;
    let (suffix_exp10, exp2) = parse_suffix(suffix)?;
    let exp10 = exp10.checked_add(suffix_exp10)?.checked_sub(scale)?;
    let magnitude = scaled_magnitude(mantissa, exp10, exp2);
    Some(if negative { -magnitude } else { magnitude })
}

/// Digits with at most one decimal point, as `(mantissa, exp10)` without trailing zeros.
fn parse_number(number: &str) -> Option<(u128, i32)> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return None;
    }
    let mut mantissa: u128 = 0;
    let mut digits = 0;
    let mut exp10: i32 = 0;
    for (index, byte) in whole.bytes().chain(fraction.bytes()).enumerate() {
        let in_fraction = index >= whole.len();
        if digits < MAX_DIGITS {
            mantissa = mantissa * 10 + u128::from(byte - b'0');
            digits += u32::from(mantissa != 0);
            exp10 -= i32::from(in_fraction);
        } else if !in_fraction {
            exp10 = exp10.checked_add(1)?;
        }
    }
    while mantissa != 0 && mantissa.is_multiple_of(10) {
        mantissa /= 10;
        exp10 += 1;
    }
    Some((mantissa, exp10))
}

/// A binary-SI, decimal-SI or exponent suffix, as `(exp10, exp2)`.
fn parse_suffix(suffix: &str) -> Option<(i32, u32)> {
    let fixed = match suffix {
        "" => (0, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        _ => return parse_exponent(suffix).map(|exp| (exp, 0)),
    };
    Some(fixed)
}

fn parse_exponent(suffix: &str) -> Option<i32> {
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    exponent.parse().ok()
}

/// `mantissa × 10^exp10 × 2^exp2`, rounded up to an integer and saturated at `i64::MAX`.
fn scaled_magnitude(mantissa: u128, exp10: i32, exp2: u32) -> i64 {
    if mantissa == 0 {
        return 0;
    }
    let Some(binary) = 1u128
        .checked_shl(exp2)
        .and_then(|power| mantissa.checked_mul(power))
    else {
        return i64::MAX;
    };
    let power = 10u128.checked_pow(exp10.unsigned_abs());
    let value = match (exp10 >= 0, power) {
        (true, Some(power)) => binary.saturating_mul(power),
        (true, None) => u128::MAX,
        (false, Some(power)) => binary.div_ceil(power),
        (false, None) => 1,
    };
    i64::try_from(value).unwrap_or(i64::MAX)
}
