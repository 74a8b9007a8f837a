// The EKS cluster component and the pieces it is built from, by concern: the cluster itself
// (cluster.ts), the platform charts (charts.ts), IRSA (irsa.ts), AWS service roles (serviceRole.ts)
// and the charts' IAM policy documents (iamPolicies.ts).
export * from "./cluster";
export * from "./charts";
export { irsaRole, irsaTrustPolicy } from "./irsa";
export { clusterAutoscalerPolicy, loadBalancerControllerPolicy } from "./iamPolicies";
