-- The PostgreSQL twin of migrations/0007_bill_account.sql: the merchant
-- account a bill states (Alipay #账号, WeChat Pay 商户号).
ALTER TABLE bills ADD COLUMN account TEXT NOT NULL DEFAULT '';
