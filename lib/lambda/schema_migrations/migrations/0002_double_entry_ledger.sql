-- A double-entry ledger: accounts, transactions with their status history, entries that sum to
-- zero per transaction (checked by the database at commit), and an outbox of events.
-- Every object is created as ledger_owner. The application (ledger_app) gets DML only, and no
-- DELETE anywhere: a ledger keeps its history. Entries are append-only.
SET LOCAL ROLE ledger_owner;

-- Row-level audit columns, set here and never by callers: who (the login user, not the role it
-- acts as) created and last changed each row, and when.
CREATE FUNCTION ledger.stamp_audit_columns() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := clock_timestamp();
        NEW.created_by := session_user;
    ELSE
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
    END IF;
    NEW.updated_at := clock_timestamp();
    NEW.updated_by := session_user;
    RETURN NEW;
END
$$;

CREATE TABLE ledger.accounts (
    account_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    holder_kind text NOT NULL CHECK (holder_kind IN ('customer', 'merchant')),
    holder_id   text NOT NULL CHECK (holder_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL,
    UNIQUE (holder_kind, holder_id, currency)
);

CREATE TABLE ledger.transactions (
    transaction_id       uuid PRIMARY KEY,
    -- SHA-256 of (merchant, Idempotency-Key): the key itself is client text and never kept.
    idempotency_key_hash text NOT NULL UNIQUE CHECK (idempotency_key_hash ~ '^[0-9a-f]{64}$'),
    fingerprint          text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    amount               bigint NOT NULL CHECK (amount > 0),  -- minor units
    currency             char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    customer_id          text NOT NULL CHECK (customer_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    merchant_id          text NOT NULL CHECK (merchant_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    status               text NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'failed')),
    fraud_decision       text NOT NULL CHECK (fraud_decision IN ('approve', 'review', 'decline', 'error')),
    fraud_reasons        text[] NOT NULL DEFAULT '{}',
    needs_review         boolean NOT NULL DEFAULT false,
    failure_reason       text,
    requested_at         timestamptz NOT NULL,
    settled_at           timestamptz,
    created_at           timestamptz NOT NULL,
    created_by           text NOT NULL,
    updated_at           timestamptz NOT NULL,
    updated_by           text NOT NULL,
    CHECK ((status = 'pending') = (settled_at IS NULL))
);
CREATE INDEX transactions_customer_requested ON ledger.transactions (customer_id, requested_at);

-- What a request said never changes, and a settled transaction never changes status again.
CREATE FUNCTION ledger.guard_transaction() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.transaction_id, NEW.idempotency_key_hash, NEW.fingerprint, NEW.amount, NEW.currency,
        NEW.customer_id, NEW.merchant_id, NEW.fraud_decision, NEW.requested_at)
       IS DISTINCT FROM
       (OLD.transaction_id, OLD.idempotency_key_hash, OLD.fingerprint, OLD.amount, OLD.currency,
        OLD.customer_id, OLD.merchant_id, OLD.fraud_decision, OLD.requested_at) THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'a recorded request is immutable';
    END IF;
    IF OLD.status <> 'pending' AND NEW.status IS DISTINCT FROM OLD.status THEN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'a settled transaction keeps its status';
    END IF;
    RETURN NEW;
END
$$;

-- Status history, written only by this trigger (the application may read it, not write it).
CREATE TABLE ledger.transaction_status_history (
    history_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES ledger.transactions,
    status         text NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    changed_by     text NOT NULL DEFAULT session_user
);
CREATE INDEX transaction_status_history_transaction ON ledger.transaction_status_history (transaction_id);

CREATE FUNCTION ledger.record_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO ledger.transaction_status_history (transaction_id, status) VALUES (NEW.transaction_id, NEW.status);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ledger.record_status() FROM PUBLIC;

CREATE TABLE ledger.entries (
    entry_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES ledger.transactions,
    account_id     bigint NOT NULL REFERENCES ledger.accounts,
    amount         bigint NOT NULL CHECK (amount <> 0),  -- minor units; debit < 0 < credit
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by     text NOT NULL DEFAULT session_user
);
CREATE INDEX entries_transaction ON ledger.entries (transaction_id);
CREATE INDEX entries_account ON ledger.entries (account_id);

-- Checked at commit for every transaction that gained entries: they sum to zero, they are in the
-- transaction's currency, and only an approved payment moves money.
CREATE FUNCTION ledger.check_balanced() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    total bigint;
    foreign_currency integer;
    payment_status text;
BEGIN
    SELECT coalesce(sum(e.amount), 0), count(*) FILTER (WHERE a.currency <> t.currency), min(t.status)
      INTO total, foreign_currency, payment_status
      FROM ledger.entries e
      JOIN ledger.accounts a ON a.account_id = e.account_id
      JOIN ledger.transactions t ON t.transaction_id = e.transaction_id
     WHERE e.transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'ledger entries of transaction ' || NEW.transaction_id || ' sum to ' || total || ', not 0';
    END IF;
    IF foreign_currency > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'ledger entries of transaction ' || NEW.transaction_id || ' use another currency';
    END IF;
    IF payment_status <> 'approved' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = 'transaction ' || NEW.transaction_id || ' is ' || payment_status || ' and moves no money';
    END IF;
    RETURN NULL;
END
$$;

CREATE TABLE ledger.outbox (
    event_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- publishing order
    transaction_id uuid NOT NULL REFERENCES ledger.transactions,
    event_type     text NOT NULL,
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    updated_at     timestamptz NOT NULL,
    updated_by     text NOT NULL,
    -- Claimed (committed) before it is sent, so it is sent at most once; delivered once the bus took it.
    claimed_at     timestamptz,
    delivered_at   timestamptz,
    UNIQUE (transaction_id, event_type),
    CHECK (delivered_at IS NULL OR claimed_at IS NOT NULL)
);
CREATE INDEX outbox_unclaimed ON ledger.outbox (event_id) WHERE claimed_at IS NULL;

CREATE TRIGGER accounts_audit BEFORE INSERT OR UPDATE ON ledger.accounts
    FOR EACH ROW EXECUTE FUNCTION ledger.stamp_audit_columns();
CREATE TRIGGER transactions_audit BEFORE INSERT OR UPDATE ON ledger.transactions
    FOR EACH ROW EXECUTE FUNCTION ledger.stamp_audit_columns();
CREATE TRIGGER outbox_audit BEFORE INSERT OR UPDATE ON ledger.outbox
    FOR EACH ROW EXECUTE FUNCTION ledger.stamp_audit_columns();
CREATE TRIGGER transactions_guard BEFORE UPDATE ON ledger.transactions
    FOR EACH ROW EXECUTE FUNCTION ledger.guard_transaction();
CREATE TRIGGER transactions_status_recorded AFTER INSERT ON ledger.transactions
    FOR EACH ROW EXECUTE FUNCTION ledger.record_status();
CREATE TRIGGER transactions_status_changed AFTER UPDATE OF status ON ledger.transactions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION ledger.record_status();
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON ledger.entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger.check_balanced();

GRANT SELECT, INSERT, UPDATE ON ledger.accounts, ledger.transactions, ledger.outbox TO ledger_app;
GRANT SELECT, INSERT ON ledger.entries TO ledger_app;
GRANT SELECT ON ledger.transaction_status_history TO ledger_app;
