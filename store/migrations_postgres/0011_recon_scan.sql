-- Reconciliation reads a business day's orders of one channel by payment
-- time: one range of this index, which holds every column a match needs
-- (an index-only scan when the visibility map allows).
DROP INDEX orders_by_paid;
CREATE INDEX orders_by_channel_paid ON orders (channel, paid_at)
    INCLUDE (out_trade_no, amount, trade_no, status, paid_via)
    WHERE paid_at IS NOT NULL;
-- The few paid orders imported without a payment time are dated by their
-- creation: without this index, finding them read every order of the day.
CREATE INDEX orders_paid_untimed ON orders (channel, created_at)
    WHERE paid_at IS NULL AND status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED');
