// Reads the stack config and wires the components; all logic lives in config/ and components/.
import * as pulumi from "@pulumi/pulumi";
import { alertingSecrets, loadStackConfig, redisUrlSecret } from "./config/program";
import { standardTags } from "./components/tags";
import { Network } from "./components/network";
import { EksCluster } from "./components/eks";
import { Database } from "./components/database";
import { AppNamespace } from "./components/appNamespace";
import { MigrationJob } from "./components/migrationJob";
import { MaintenancePage } from "./components/maintenancePage";
import { BlueGreenService } from "./components/blueGreenService";
import { ReleaseTraffic } from "./components/releaseTraffic";
import { AlertRouting } from "./components/alertRouting";

const config = loadStackConfig();
const tags = standardTags(config);

const network = new Network("network", {
    environment: config.environment,
    availabilityZones: config.availabilityZones,
    region: config.region,
    cidrBlock: config.vpcCidr,
    tags,
});

const cluster = new EksCluster("cluster", {
    environment: config.environment,
    cluster: config.cluster,
    region: config.region,
    vpcId: network.vpcId,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
    tags,
});

const database = new Database("database", {
    environment: config.environment,
    database: config.database,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    allowedSecurityGroupIds: [cluster.nodeSecurityGroupId],
    snapshotReleases: config.migrations.map((m) => m.release),
    tags,
});

const app = new AppNamespace("app", {
    namespace: config.namespace,
    environment: config.environment,
    databaseUrl: database.connectionUrl,
    redisUrl: redisUrlSecret(config),
    waitFor: cluster.workloadDependencies,
    provider: cluster.provider,
});

const migrations = config.migrations.map(
    (migration) =>
        new MigrationJob(`migrate-${migration.release}`, {
            migration,
            databaseIdentifier: database.identifier,
            snapshot: database.snapshotFor(migration.release),
            namespace: app.namespaceName,
            secretName: app.secretName,
            provider: cluster.provider,
        }),
);

const maintenancePage = new MaintenancePage("maintenance", {
    namespace: app.namespaceName,
    image: config.maintenanceImage,
    enabled: config.maintenance,
    provider: cluster.provider,
});

const services = config.services.map(
    (service) =>
        new BlueGreenService(service.name, {
            service,
            environment: config.environment,
            namespace: app.namespaceName,
            secretName: app.secretName,
            hasRedisUrl: config.hasRedisUrl,
            smokeTestImage: config.smokeTestImage,
            maintenancePage: config.maintenance ? maintenancePage : undefined,
            migrations,
            databaseInstance: database.activeIdentifier,
            monitoringStack: cluster.monitoringStack,
            provider: cluster.provider,
        }),
);

new AlertRouting("alert-routing", {
    ...alertingSecrets(config),
    monitoringStack: cluster.monitoringStack,
    provider: cluster.provider,
});

const traffic = new ReleaseTraffic("traffic", {
    environment: config.environment,
    namespace: app.namespaceName,
    ingress: config.ingress,
    release: config.release,
    services,
    maintenance: config.maintenance,
    databasePort: database.port,
    hasRedisUrl: config.hasRedisUrl,
    vpcCidr: config.vpcCidr,
    tags,
    provider: cluster.provider,
});

export const clusterName = cluster.clusterName;
export const kubeconfig = pulumi.secret(cluster.kubeconfig);
export const databaseEndpoint = database.endpoint;
export const databaseReplicaEndpoints = database.replicaEndpoints;
export const databaseMasterSecretArn = database.masterSecretArn;
export const preMigrationSnapshotIds = database.snapshotIds;
export const databaseAlarmTopicArn = database.alarmTopicArn;
export const namespace = app.namespaceName;
export const liveColors = traffic.liveColors;
export const publicUrl = traffic.publicUrl;
