"""The model seam: one `ChatModel.complete`, the OpenAI-compatible client, cassettes, config and usage."""
