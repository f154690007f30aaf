-- The ledger's roles and schema.
--   ledger_owner (NOLOGIN) owns every ledger object; the migration function acts as it.
--   ledger_app (NOLOGIN) has DML only; the application's login roles are made members of it.
-- Roles are cluster-wide: created only when missing, so a second database can share them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ledger_owner') THEN
        CREATE ROLE ledger_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ledger_app') THEN
        CREATE ROLE ledger_app NOLOGIN;
    END IF;
END
$$;

-- The migration user (the cluster's master user) may act as the owner, and nobody else may.
GRANT ledger_owner TO CURRENT_USER;

CREATE SCHEMA ledger AUTHORIZATION ledger_owner;
REVOKE ALL ON SCHEMA ledger FROM PUBLIC;
GRANT USAGE ON SCHEMA ledger TO ledger_app;
