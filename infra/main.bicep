// genai-policy-bot on Azure: App Service for Linux, Azure Bot (Teams channel), PostgreSQL Flexible Server
// with Entra ID authentication only, Key Vault, Log Analytics and Application Insights; one user-assigned
// managed identity is the bot's identity, the database login and the Key Vault reader. No passwords anywhere.
//
//   az deployment group create -g <resource group> -f infra/main.bicep -p infra/main.parameters.json
//   (or: make deploy RESOURCE_GROUP=<resource group>)
//
// docs/runbook.md walks through it, including what Bicep cannot do (Graph permissions, Teams app upload).

targetScope = 'resourceGroup'

@description('Azure region. UK South keeps the data in the UK.')
param location string = 'uksouth'

@description('Short name used to build every resource name (letters and digits).')
@minLength(3)
@maxLength(12)
param baseName string = 'policybot'

@description('Suffix that makes global names (web app, Key Vault, database server) unique.')
param suffix string = take(uniqueString(resourceGroup().id), 6)

@description('App Service plan SKU. B1 is the smallest tier with Always On; P0v3 or above for zone redundancy.')
param appServiceSku string = 'B1'

@description('How many App Service instances. More than one needs PostgreSQL (the default here), never SQLite.')
@minValue(1)
param instanceCount int = 1

@description('A container image to run (e.g. myregistry.azurecr.io/genai-policy-bot:1.0), pulled with the managed identity. Empty: run the Python code deployed by the Agents Toolkit or zip deploy.')
param containerImage string = ''

@description('PostgreSQL Flexible Server compute SKU and tier. Standard_B1ms (Burstable) suits one council\'s staff.')
param postgresSku string = 'Standard_B1ms'
@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresTier string = 'Burstable'
param postgresStorageGB int = 32
@description('Point-in-time restore window in days (7 to 35).')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 14
@description('Geo-redundant backups (a copy in the paired region, UK West for UK South). Cannot be changed after creation.')
@allowed(['Enabled', 'Disabled'])
param geoRedundantBackup string = 'Enabled'

@description('Log Analytics retention in days.')
param logRetentionDays int = 90

@description('Settings passed to the bot (see README "Configuration"), e.g. {"ORG_NAME": "Testshire Council", "APPROVER_IDS": "…"}.')
param botSettings object = {}

@description('Display name of the Azure Bot.')
param botDisplayName string = 'GenAI Policy'

var names = {
  identity: 'id-${baseName}-${suffix}'
  plan: 'plan-${baseName}-${suffix}'
  web: 'app-${baseName}-${suffix}'
  bot: 'bot-${baseName}-${suffix}'
  postgres: 'psql-${baseName}-${suffix}'
  vault: 'kv-${take(baseName, 10)}-${suffix}'
  logs: 'log-${baseName}-${suffix}'
  insights: 'appi-${baseName}-${suffix}'
  vnet: 'vnet-${baseName}-${suffix}'
}
var databaseName = 'policybot'
var tenantId = tenant().tenantId
var appPort = '8000'

// ---------- identity ----------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

// ---------- network: the app reaches PostgreSQL and Key Vault privately ----------

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: names.vnet
  location: location
  properties: {
    addressSpace: { addressPrefixes: ['10.40.0.0/16'] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.40.1.0/24'
          delegations: [{ name: 'web', properties: { serviceName: 'Microsoft.Web/serverFarms' } }]
          serviceEndpoints: [{ service: 'Microsoft.KeyVault' }]
        }
      }
      {
        name: 'db'
        properties: {
          addressPrefix: '10.40.2.0/24'
          delegations: [{ name: 'postgres', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } }]
        }
      }
    ]
  }
}

resource postgresDns 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: '${names.postgres}.private.postgres.database.azure.com'
  location: 'global'
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: postgresDns
  name: 'vnet'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: { id: vnet.id }
  }
}

// ---------- monitoring ----------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

// ---------- Key Vault: secrets the app reads by Key Vault reference, with its managed identity ----------

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_189: the firewall denies by default and admits only the app's subnet (service endpoint) and trusted Azure services; turning public access off entirely needs a private endpoint and stops operators rotating secrets with `az keyvault secret set`
  name: names.vault
  location: location
  properties: {
    tenantId: tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      virtualNetworkRules: [{ id: vnet.properties.subnets[0].id }]
    }
  }
}

// Key Vault Secrets User: read secret values, nothing else.
resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, '4633458b-17de-408a-b874-0445c86b69e6')
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
  }
}

resource insightsSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  // checkov:skip=CKV_AZURE_41: a connection string has no natural expiry; docs/runbook.md says how to rotate it
  parent: vault
  name: 'applicationinsights-connection-string'
  properties: {
    value: insights.properties.ConnectionString
    contentType: 'text/plain'
  }
}

// ---------- PostgreSQL: Entra ID authentication only, private access, backups ----------

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: names.postgres
  location: location
  sku: { name: postgresSku, tier: postgresTier }
  properties: {
    version: '16'
    storage: { storageSizeGB: postgresStorageGB, autoGrow: 'Enabled' }
    backup: { backupRetentionDays: backupRetentionDays, geoRedundantBackup: geoRedundantBackup }
    highAvailability: { mode: 'Disabled' }
    authConfig: { activeDirectoryAuth: 'Enabled', passwordAuth: 'Disabled', tenantId: tenantId }
    network: {
      delegatedSubnetResourceId: vnet.properties.subnets[1].id
      privateDnsZoneArmResourceId: postgresDns.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [postgresDnsLink]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: databaseName
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// The bot's identity is the server's Entra administrator: it runs the migrations (`policy-bot db upgrade`), so it
// owns the schema. docs/runbook.md shows how a DBA can give the running app a narrower role instead.
resource postgresAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: postgres
  name: identity.properties.principalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: identity.name
    tenantId: tenantId
  }
  dependsOn: [database]
}

// Log queries and connections, for the security team's audit.
resource postgresLogConnections 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: postgres
  name: 'log_connections'
  properties: { value: 'on', source: 'user-override' }
  dependsOn: [postgresAdmin]
}

// ---------- App Service ----------

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy needs Premium v3 and three instances; the default is one B1 instance for cost (README and docs/runbook.md say how to scale)
  name: names.plan
  location: location
  kind: 'linux'
  sku: { name: appServiceSku, capacity: instanceCount }
  properties: { reserved: true }
}

var databaseUrl = 'postgresql://${identity.name}@${names.postgres}.postgres.database.azure.com:5432/${databaseName}?ssl=require'
var baseAppSettings = {
  MicrosoftAppId: identity.properties.clientId
  MicrosoftAppType: 'UserAssignedMSI'
  MicrosoftAppTenantId: tenantId
  AZURE_CLIENT_ID: identity.properties.clientId
  ALLOWED_TENANT_IDS: tenantId
  DATABASE_URL: databaseUrl
  DATABASE_AUTH: 'entra'
  APPLICATIONINSIGHTS_CONNECTION_STRING: '@Microsoft.KeyVault(SecretUri=${insightsSecret.properties.secretUri})'
  OTEL_SERVICE_NAME: 'genai-policy-bot'
  HOST: '0.0.0.0'
  PORT: appPort
  WEBSITES_PORT: appPort
  LOG_FORMAT: 'json'
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
}

resource web 'Microsoft.Web/sites@2023-12-01' = {
  // checkov:skip=CKV_AZURE_13: Teams reaches /api/messages with a Bot Framework token that the app checks; App Service sign-in would refuse Teams
  // checkov:skip=CKV_AZURE_17: incoming client certificates would refuse Teams, which authenticates with a bearer token
  // checkov:skip=CKV_AZURE_88: the app keeps no files; its state is in PostgreSQL
  // checkov:skip=CKV_AZURE_222: the Bot Framework service must reach the messaging endpoint from the internet
  // checkov:skip=CKV_AZURE_212: instanceCount (default 1, for cost) sets the number; use 2 or more for failover
  name: names.web
  location: location
  kind: empty(containerImage) ? 'app,linux' : 'app,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  tags: { 'azd-service-name': 'bot' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    virtualNetworkSubnetId: vnet.properties.subnets[0].id
    vnetRouteAllEnabled: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: empty(containerImage) ? 'PYTHON|3.11' : 'DOCKER|${containerImage}'
      appCommandLine: empty(containerImage) ? 'bash scripts/start-app-service.sh' : ''
      acrUseManagedIdentityCreds: !empty(containerImage)
      acrUserManagedIdentityID: empty(containerImage) ? null : identity.properties.clientId
      alwaysOn: true
      // /readyz is 200 only while the database is reachable and migrated: App Service takes an instance
      // that fails it out of the load balancer (and replaces it after an hour).
      healthCheckPath: '/readyz'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      httpLoggingEnabled: true
      detailedErrorLoggingEnabled: true
      requestTracingEnabled: true
      appSettings: [for item in items(union(baseAppSettings, botSettings)): { name: item.key, value: item.value }]
    }
  }
  dependsOn: [vaultReader, postgresAdmin]
}

resource ftpOff 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2023-12-01' = {
  parent: web
  name: 'ftp'
  properties: { allow: false }
}

resource webLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: web
  name: 'to-log-analytics'
  properties: {
    workspaceId: logs.id
    logs: [
      { category: 'AppServiceHTTPLogs', enabled: true }
      { category: 'AppServiceConsoleLogs', enabled: true }
      { category: 'AppServiceAppLogs', enabled: true }
      { category: 'AppServicePlatformLogs', enabled: true }
    ]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

resource postgresLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: postgres
  name: 'to-log-analytics'
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

resource vaultLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: vault
  name: 'to-log-analytics'
  properties: {
    workspaceId: logs.id
    logs: [{ categoryGroup: 'audit', enabled: true }]
  }
}

// ---------- Azure Bot with the Teams channel ----------

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${web.properties.defaultHostName}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppType: 'UserAssignedMSI'
    msaAppMSIResourceId: identity.id
    msaAppTenantId: tenantId
    publicNetworkAccess: 'Enabled'
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

// ---------- outputs: what the Teams manifest and the runbook need ----------

@description('The bot\'s Microsoft App ID: the manifest\'s id and botId (`policy-bot manifest --app-id …`).')
output BOT_ID string = identity.properties.clientId
output BOT_TENANT_ID string = tenantId
output BOT_DOMAIN string = web.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${web.properties.defaultHostName}/api/messages'
output IDENTITY_NAME string = identity.name
output IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output AZURE_WEB_APP_NAME string = web.name
output AZURE_WEB_APP_RESOURCE_ID string = web.id
output AZURE_BOT_NAME string = bot.name
output POSTGRES_HOST string = '${names.postgres}.postgres.database.azure.com'
output DATABASE_URL string = databaseUrl
output KEY_VAULT_NAME string = vault.name
output APPLICATION_INSIGHTS_NAME string = insights.name
