package schemas

// Alert names the embedded JSON Schema of an alert
// (pipeline/sink/alertsink.Alert): the value of messages on the alerts
// topic, the body of generic webhooks and the stdout lines. The file is
// embedded with the other *.schema.json files of this package.
const Alert = "alert.schema.json"
