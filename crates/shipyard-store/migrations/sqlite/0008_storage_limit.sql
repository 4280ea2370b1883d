-- How much disk (GiB) a workspace's releases, build disks and instances' HOMEs may take together.
ALTER TABLE tenants ADD COLUMN storage_gb_limit INTEGER NOT NULL DEFAULT 50;
