package results

// OpStep is a journey step before booking that calls a service (a login,
// an OTP, a captcha: scenarios.StepSpec). All steps share the operation.
const OpStep = "step"

// CodeGatewayThrottled is the error code of the gateway's own 429, which
// refuses a request before it reaches any partition
// (Requests.GatewayThrottled counts them).
const CodeGatewayThrottled = "gateway_throttled"
