-- The merchant account a bill states (Alipay #账号, WeChat Pay 商户号), so
-- that without a configured merchant id the workspace's first bill says
-- whose bills the workspace reconciles.
ALTER TABLE bills ADD COLUMN account TEXT NOT NULL DEFAULT '';
