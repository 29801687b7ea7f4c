package recon

// Term is a word of a finance team's vocabulary, what it means in paydesk
// and the category that reports it.
type Term struct {
	Word     string
	Meaning  string
	Category Category
}

// Vocabulary is how paydesk uses the finance words 长款 and 短款: from the
// merchant's point of view, comparing the account with the books. The
// README, the report and the console say it from here.
var Vocabulary = []Term{
	{Word: "长款", Category: FundUnexpected,
		Meaning: "money in the account that no order explains: the account holds more than the books say"},
	{Word: "短款", Category: FundMissing,
		Meaning: "an order paid (by paydesk's records or the trade bill) with no money in the account: the account holds less than the books say"},
}
