# Written by Bert.Sharp (https://github.com/bert-sharp/Bert.Sharp) next to a model it saved. MIT licence.
"""The configuration of a Bert.Sharp sequence classifier: a BERT config plus the pooling its head reads."""
from transformers import BertConfig


class BertSharpConfig(BertConfig):
    """BertConfig with ``classifier_pooling``: ``"pooler"`` (Hugging Face's BertForSequenceClassification), ``"mean"``
    (mean of the last hidden states over real tokens) or ``"cls"`` (the last hidden state of [CLS])."""

    model_type = "bert_sharp"

    def __init__(self, classifier_pooling="mean", **kwargs):
        super().__init__(**kwargs)
        self.classifier_pooling = classifier_pooling
