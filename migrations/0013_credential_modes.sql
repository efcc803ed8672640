ALTER TABLE `api_keys` ADD `mode` text DEFAULT 'live' NOT NULL;--> statement-breakpoint
ALTER TABLE `oauth_clients` ADD `mode` text DEFAULT 'live' NOT NULL;
