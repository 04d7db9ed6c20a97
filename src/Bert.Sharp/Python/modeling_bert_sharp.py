# Written by Bert.Sharp (https://github.com/bert-sharp/Bert.Sharp) next to a model it saved. MIT licence.
"""A BERT sequence classifier whose head reads a pooling other than the pooler, as Bert.Sharp trained it.

Load the folder with
    AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
and it computes the same logits as Bert.Sharp. Hugging Face's own BertForSequenceClassification always reads the pooler,
which this model's head was not trained on: that is why the folder's model_type is "bert_sharp", not "bert".
"""
import torch


def pool(last_hidden_state, attention_mask, pooler_output, strategy):
    """One vector per text, as Bert.Sharp's ClassificationHead.Pool computes it."""
    if strategy == "pooler":
        return pooler_output
    if strategy == "cls":
        return last_hidden_state[:, 0]
    if strategy == "mean":
        if attention_mask is None:
            return last_hidden_state.mean(dim=1)
        mask = attention_mask.to(last_hidden_state.dtype).unsqueeze(-1)
        return (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    raise ValueError(f"classifier_pooling {strategy!r} is not one of pooler, mean, cls")


try:
    from torch import nn
    from transformers import BertModel, BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    from .configuration_bert_sharp import BertSharpConfig
except ImportError:  # without transformers only pool() is usable (Bert.Sharp's own tests import it this way)
    BertPreTrainedModel = None

if BertPreTrainedModel is not None:

    class BertSharpForSequenceClassification(BertPreTrainedModel):
        """BertForSequenceClassification with the head on ``config.classifier_pooling``."""

        config_class = BertSharpConfig

        def __init__(self, config):
            super().__init__(config)
            self.num_labels = config.num_labels
            self.config = config
            self.bert = BertModel(config)
            dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
            self.dropout = nn.Dropout(dropout)
            self.classifier = nn.Linear(config.hidden_size, config.num_labels)
            self.post_init()

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                    inputs_embeds=None, labels=None, output_attentions=None, output_hidden_states=None, return_dict=None):
            return_dict = return_dict if return_dict is not None else self.config.use_return_dict
            outputs = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                                position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
                                output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                                return_dict=True)
            pooled = pool(outputs.last_hidden_state, attention_mask, outputs.pooler_output, self.config.classifier_pooling)
            logits = self.classifier(self.dropout(pooled))
            loss = None
            if labels is not None:
                if self.config.problem_type is None:
                    if self.num_labels == 1:
                        self.config.problem_type = "regression"
                    elif labels.dtype in (torch.long, torch.int):
                        self.config.problem_type = "single_label_classification"
                    else:
                        self.config.problem_type = "multi_label_classification"
                if self.config.problem_type == "regression":
                    loss_fct = nn.MSELoss()
                    loss = loss_fct(logits.squeeze(), labels.squeeze()) if self.num_labels == 1 else loss_fct(logits, labels)
                elif self.config.problem_type == "single_label_classification":
                    loss = nn.CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
                else:
                    loss = nn.BCEWithLogitsLoss()(logits, labels)
            if not return_dict:
                output = (logits,) + (outputs.hidden_states, outputs.attentions)
                return ((loss,) + output) if loss is not None else output
            return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states,
                                            attentions=outputs.attentions)
