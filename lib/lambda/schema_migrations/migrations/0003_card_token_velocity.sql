-- Velocity per card token for payments recorded straight into the ledger (the transactions API):
-- the token's SHA-256, never the token, so the ledger still holds no card data of any kind. Rows
-- recorded before this migration have none and are counted by customer only.
SET LOCAL ROLE ledger_owner;

ALTER TABLE ledger.transactions
    ADD COLUMN card_token_hash text CHECK (card_token_hash ~ '^[0-9a-f]{64}$');
CREATE INDEX transactions_card_requested ON ledger.transactions (card_token_hash, requested_at)
    WHERE card_token_hash IS NOT NULL;

-- The token hash is part of the request: as immutable as the rest of it.
CREATE OR REPLACE FUNCTION ledger.guard_transaction() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.transaction_id, NEW.idempotency_key_hash, NEW.fingerprint, NEW.amount, NEW.currency,
        NEW.customer_id, NEW.merchant_id, NEW.fraud_decision, NEW.requested_at, NEW.card_token_hash)
       IS DISTINCT FROM
       (OLD.transaction_id, OLD.idempotency_key_hash, OLD.fingerprint, OLD.amount, OLD.currency,
        OLD.customer_id, OLD.merchant_id, OLD.fraud_decision, OLD.requested_at, OLD.card_token_hash) THEN
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
