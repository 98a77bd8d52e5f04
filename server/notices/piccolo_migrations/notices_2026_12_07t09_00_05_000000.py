from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T09:00:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "customer notices (issue 21): notice_settings, notice_template, notice"

# table → [(name, class, default, null, extra params)]
TABLES = {
    ("NoticeSettings", "notice_settings"): [
        ("tenant_id", Integer, 0, False, {}),
        ("sms_enabled", Boolean, False, False, {}),
        ("sms_provider", Varchar, "webhook", False, {"length": 20}),
        ("sms_url", Varchar, "", False, {"length": 300}),
        ("sms_headers", JSON, "{}", False, {}),
        ("sms_secret_headers_enc", Text, "", False, {}),
        ("sms_secret_header_names", JSON, "[]", False, {}),
        ("sms_body", Text, "", False, {}),
        ("email_enabled", Boolean, False, False, {}),
        ("smtp_host", Varchar, "", False, {"length": 200}),
        ("smtp_port", Integer, 587, False, {}),
        ("smtp_security", Varchar, "starttls", False, {"length": 10}),
        ("smtp_user", Varchar, "", False, {"length": 200}),
        ("smtp_password_enc", Text, "", False, {}),
        ("smtp_from", Varchar, "", False, {"length": 200}),
        ("updated_by_name", Varchar, "", False, {"length": 100}),
        ("updated_at", Timestamptz, TimestamptzNow(), False, {}),
    ],
    ("NoticeTemplate", "notice_template"): [
        ("tenant_id", Integer, 0, False, {}),
        ("event", Varchar, "", False, {"length": 20}),
        ("channel", Varchar, "", False, {"length": 10}),
        ("enabled", Boolean, True, False, {}),
        ("subject", Varchar, "", False, {"length": 200}),
        ("body", Text, "", False, {}),
        ("updated_by_name", Varchar, "", False, {"length": 100}),
        ("updated_at", Timestamptz, TimestamptzNow(), False, {}),
    ],
    ("Notice", "notice"): [
        ("tenant_id", Integer, 0, False, {}),
        ("key", Varchar, "", False, {"length": 80}),
        ("work_order_id", Integer, 0, False, {}),
        ("work_order_no", Varchar, "", False, {"length": 24}),
        ("org_path", Varchar, "", False, {"length": 400}),
        ("customer_name", Varchar, "", False, {"length": 50}),
        ("event", Varchar, "", False, {"length": 20}),
        ("channel", Varchar, "", False, {"length": 10}),
        ("recipient", Varchar, "", False, {"length": 200}),
        ("template_id", Integer, None, True, {}),
        ("subject", Varchar, "", False, {"length": 200}),
        ("body", Text, "", False, {}),
        ("status", Varchar, "", False, {"length": 10}),
        ("attempts", Integer, 0, False, {}),
        ("answer", Varchar, "", False, {"length": 500}),
        ("resends", Integer, 0, False, {}),
        ("created_at", Timestamptz, TimestamptzNow(), False, {}),
        ("sent_at", Timestamptz, None, True, {}),
        ("updated_at", Timestamptz, TimestamptzNow(), False, {}),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notices", description=DESCRIPTION)
    for (class_name, tablename), columns in TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, default, null, extra in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params={
                    "default": default,
                    "null": null,
                    "primary_key": False,
                    "unique": False,
                    "index": False,
                    **extra,
                    "index_method": IndexMethod.btree,
                    "choices": None,
                    "db_column_name": None,
                    "secret": False,
                },
                schema=None,
            )
    return manager
