namespace ClassifierApi;

/// <summary>The OpenAPI description of the API: the contract in one place.</summary>
internal static class ApiDescription
{
    public const string Text = """
        Classifies texts with a fine-tuned Bert.Sharp model (by default the sentiment model: labels negative, positive).

        * `POST /classify` with `{"text": "..."}` returns `{"label": "...", "score": 0.97, "probabilities": {"negative": 0.03, "positive": 0.97}}`.
        * `POST /classify/batch` with `{"texts": ["...", "..."]}` returns `{"predictions": [...]}`, one result per text in request order.
        * `GET /health` returns the health report (Healthy, Degraded when the request queue is nearly full, Unhealthy when the model cannot be loaded; 503 when Unhealthy).

        Errors are RFC 9457 problem details with a `detail` message: 400 for malformed JSON, a missing, empty or white-space-only
        text (it would classify only `[CLS] [SEP]`), or a batch with no texts or more than the limit (64 by default); 413 when
        the body exceeds the limit (4 MiB by default); 415 when the body is not JSON; 503 with `Retry-After` when the request
        queue is full. Long texts are accepted and truncated by the tokenizer to the model's maximum length (512 tokens).

        Concurrent requests are coalesced into batches on the server (micro-batching), so many clients at once are served
        at batch throughput.
        """;
}
