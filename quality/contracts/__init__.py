"""Data contracts: what each landing source must look like, as plain data."""
