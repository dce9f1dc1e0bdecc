//! APIService defaults (apiregistration/v1's `SetDefaults_ServiceReference`): a service is
//! called on port 443 unless it says otherwise.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use super::set_if_none;

pub fn api_service(service: &mut APIService) {
    if let Some(reference) = service.spec.as_mut().and_then(|s| s.service.as_mut()) {
        set_if_none(&mut reference.port, 443);
    }
}
