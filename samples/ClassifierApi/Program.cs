using ClassifierApi;

// An ASP.NET Core minimal API serving a Bert.Sharp sentiment classifier:
//   dotnet run -c Release --project samples/ClassifierApi -- --urls http://127.0.0.1:5000 [--model DIR]
// Without --model it serves output/sentiment/model (the SentimentAnalysis sample's output), training it first if absent.
WebApplication app = ClassifierApiApp.Build(args);
await app.RunAsync().ConfigureAwait(false);
