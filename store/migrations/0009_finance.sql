-- A bill and a run are of a kind: the trade bill (业务明细, 交易账单) or the
-- fund bill of the account's movements (账务明细, 资金账单).
ALTER TABLE bills ADD COLUMN kind TEXT NOT NULL DEFAULT 'trade' CHECK (kind IN ('trade', 'funds'));
ALTER TABLE recon_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'trade' CHECK (kind IN ('trade', 'funds'));
DROP INDEX recon_runs_by_day;
CREATE INDEX recon_runs_by_day ON recon_runs (channel, day, kind);

-- The fees a contracted rate gives beside those charged (NULL: no rate was
-- configured), and the rate as configured.
ALTER TABLE recon_runs ADD COLUMN expected_fees INTEGER;
ALTER TABLE recon_runs ADD COLUMN fee_rate TEXT NOT NULL DEFAULT '';

-- A fund-flow finding names the account movement it is about.
ALTER TABLE findings ADD COLUMN flow_no TEXT NOT NULL DEFAULT '';

-- Findings of a replaced run are kept with it (a re-run no longer deletes
-- them), so that a run can be compared with the one before it. The current
-- findings of a day are those of its run not superseded.
DROP INDEX findings_by_day;
