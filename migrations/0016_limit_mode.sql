ALTER TABLE `tenants` ADD `limit_mode` text DEFAULT 'exact' NOT NULL;
