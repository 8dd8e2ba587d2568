"""Operations, their phases and participants: set-up and the overview every member sees."""
