-- Request counts per credential moved to usage_counts (0012); nothing reads this table any more.
DROP TABLE `credential_usage`;