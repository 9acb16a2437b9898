"""The starting list of sub-ecosystem segments. Operators add their own in the admin."""

from __future__ import annotations

STARTING_SEGMENTS: dict[str, list[tuple[str, str]]] = {
    "industry": [
        ("financial_services", "Financial services"),
        ("healthcare", "Healthcare"),
        ("manufacturing", "Manufacturing"),
        ("retail", "Retail"),
        ("public_sector", "Public sector"),
        ("technology", "Technology"),
        ("energy", "Energy"),
        ("media", "Media"),
    ],
    "technology": [
        ("aws", "AWS"),
        ("azure", "Microsoft Azure"),
        ("gcp", "Google Cloud"),
        ("salesforce", "Salesforce"),
        ("sap", "SAP"),
        ("snowflake", "Snowflake"),
        ("kubernetes", "Kubernetes"),
        ("servicenow", "ServiceNow"),
    ],
    "practice": [
        ("data_analytics", "Data & analytics"),
        ("security", "Security"),
        ("cloud_migration", "Cloud migration"),
        ("crm_implementation", "CRM implementation"),
        ("managed_services", "Managed services"),
        ("ai_ml", "AI / ML"),
    ],
    "geography": [
        ("NA", "North America"),
        ("EMEA", "Europe, Middle East and Africa"),
        ("APAC", "Asia-Pacific"),
        ("LATAM", "Latin America"),
    ],
}
