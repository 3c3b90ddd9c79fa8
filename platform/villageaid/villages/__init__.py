"""Registered poor villages (建档立卡贫困村) and their committees."""
