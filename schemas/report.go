package schemas

// Report names the embedded JSON Schema of the audit report
// (`analyze report --format json`, report.Report). The file is embedded
// with the other *.schema.json files of this package.
const Report = "report.schema.json"
