-- HTTPS (#39): a renewal an admin asked for (POST /admin/certificates/<hostname>/renew), done by
-- the issuer's next pass whatever the certificate's age; cleared when a certificate is stored.
ALTER TABLE certificates ADD COLUMN renew_requested INTEGER NOT NULL DEFAULT 0;
