ALTER TABLE `api_keys` ADD `locked_by` text;--> statement-breakpoint
ALTER TABLE `oauth_clients` ADD `locked_by` text;