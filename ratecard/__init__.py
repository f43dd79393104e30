"""ratecard: exact LLM cost accounting over usage logs and provider price sheets."""
